"""OrbitChat version and the Rocket.Chat API level it speaks."""
VERSION = "0.1.0"
# Clients gate features on the Rocket.Chat server version they see in /api/info.
RC_COMPAT_VERSION = "7.4.0"
