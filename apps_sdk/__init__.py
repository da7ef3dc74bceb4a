"""apps_sdk: everything an OrbitChat app imports."""
from apps_sdk.app import (
                          APP_HOOKS,
                          App,
                          CommandContext,
                          Configuration,
                          Endpoint,
                          Processor,
                          SettingDecl,
                          SlashCommand,
)
from apps_sdk.markers import hookimpl

__all__ = ["APP_HOOKS", "App", "CommandContext", "Configuration", "Endpoint", "Processor", "SettingDecl",
           "SlashCommand", "hookimpl"]
