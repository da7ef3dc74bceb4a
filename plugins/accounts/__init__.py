"""accounts service (being built)."""


class Plugin:
    name = "accounts"
