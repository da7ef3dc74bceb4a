"""messaging service (being built)."""


class Plugin:
    name = "messaging"
