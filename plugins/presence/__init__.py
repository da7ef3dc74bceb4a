"""presence service (being built)."""


class Plugin:
    name = "presence"
