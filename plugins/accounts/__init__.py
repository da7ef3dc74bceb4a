"""Accounts service: users, login (password, resume token), logout, tokens stored hashed, profiles."""
from plugins.accounts.hooks import Plugin

__all__ = ["Plugin"]
