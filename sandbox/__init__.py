"""Runs each app in its own confined OS process and speaks framed JSON-RPC with it."""
