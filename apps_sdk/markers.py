"""The hook implementation marker shared by plugins, the app proxy and the kernel."""
import pluggy

PROJECT = "orbitchat"
hookimpl = pluggy.HookimplMarker(PROJECT)
