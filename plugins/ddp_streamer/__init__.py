"""ddp_streamer service (being built)."""


class Plugin:
    name = "ddp_streamer"
