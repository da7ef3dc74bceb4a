"""apps_engine service (being built)."""


class Plugin:
    name = "apps_engine"
