"""OrbitChat's built-in services, each an ordinary plugin declared under the `orbitchat.plugins` entry points."""
