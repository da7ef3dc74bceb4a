"""authorization service (being built)."""


class Plugin:
    name = "authorization"
