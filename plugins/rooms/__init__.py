"""rooms service (being built)."""


class Plugin:
    name = "rooms"
