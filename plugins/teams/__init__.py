"""Teams service: teams with a main room, team rooms, members and their team roles."""
from plugins.teams.hooks import Plugin

__all__ = ["Plugin"]
