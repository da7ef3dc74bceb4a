"""teams service (being built)."""


class Plugin:
    name = "teams"
