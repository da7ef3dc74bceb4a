"""uikit_core service (being built)."""


class Plugin:
    name = "uikit_core"
