"""The `App` base class and the configuration an app declares (commands, endpoints, settings, jobs)."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps_sdk.accessors import UI, Http, Modifier, Persistence, Reader, Scheduler, Settings

# Hooks an app may implement: the same names (and arguments) the server's own plugins implement.
APP_HOOKS = (
    "pre_message_sent_prevent", "pre_message_sent_extend", "pre_message_sent_modify", "post_message_sent",
    "pre_message_updated_prevent", "pre_message_updated_extend", "pre_message_updated_modify",
    "post_message_updated", "pre_message_deleted_prevent", "post_message_deleted",
    "pre_room_created_prevent", "post_room_created", "pre_room_user_joined_prevent", "post_room_user_joined",
    "post_room_user_left", "post_room_deleted", "pre_user_created_prevent", "post_user_created",
    "post_user_logged_in", "post_user_logged_out", "post_user_status_changed",
    "post_livechat_room_started", "post_livechat_room_closed", "post_livechat_agent_assigned",
)


@dataclass
class SlashCommand:
    command: str
    executor: Callable[[CommandContext], Awaitable[None]]
    description: str = ""
    params_example: str = ""
    previewer: Callable[[CommandContext], Awaitable[list[dict]]] | None = None
    preview_executor: Callable[[CommandContext, dict], Awaitable[None]] | None = None
    permission: str | None = None


@dataclass
class CommandContext:
    sender: dict
    room: dict
    args: list[str]
    thread_id: str | None = None
    trigger_id: str | None = None


@dataclass
class Endpoint:
    """An app REST endpoint under /api/apps/public|private/<appId>/<path>. The handler receives
    `{"method", "path", "params", "query", "headers", "content", "user"?}` and returns
    `{"status": int, "headers"?: {...}, "content"?: any}`."""

    path: str
    handler: Callable[[dict], Awaitable[dict]]
    methods: tuple[str, ...] = ("GET",)
    auth_required: bool = False


@dataclass
class SettingDecl:
    id: str
    type: str              # boolean | string | int | select | code | password
    package_value: Any
    required: bool = False
    public: bool = False
    i18n_label: str = ""
    values: list[dict] | None = None


@dataclass
class Processor:
    id: str
    handler: Callable[[dict], Awaitable[None]]


@dataclass
class Configuration:
    """Filled by `App.extend_configuration`; sent to the server when the app initialises."""

    commands: list[SlashCommand] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    settings: list[SettingDecl] = field(default_factory=list)
    processors: list[Processor] = field(default_factory=list)

    def slash_command(self, cmd: SlashCommand) -> None:
        self.commands.append(cmd)

    def endpoint(self, ep: Endpoint) -> None:
        self.endpoints.append(ep)

    def setting(self, s: SettingDecl) -> None:
        self.settings.append(s)

    def processor(self, p: Processor) -> None:
        self.processors.append(p)


class App:
    """Subclass this. Implement hooks as async methods named like the server's hooks
    (e.g. `async def pre_message_sent_prevent(self, message, room, ctx) -> bool`)."""

    reader: Reader
    modifier: Modifier
    ui: UI
    persistence: Persistence
    http: Http
    settings: Settings
    scheduler: Scheduler

    def __init__(self, info: dict, logger: logging.Logger) -> None:
        self.info = info
        self.logger = logger

    @property
    def id(self) -> str:
        return self.info["id"]

    def extend_configuration(self, config: Configuration) -> None:
        """Declare slash commands, endpoints, settings and scheduled processors."""

    async def initialize(self) -> None:
        """Called once after construction."""

    async def on_enable(self) -> bool:
        """Return False to refuse enabling."""
        return True

    async def on_disable(self) -> None:
        pass

    async def on_uninstall(self) -> None:
        pass

    async def on_settings_updated(self, setting_id: str, value: Any) -> None:
        pass

    # UIKit interactions: return a response dict (see apps_sdk.uikit.responses) or None.
    async def on_block_action(self, interaction: dict) -> dict | None:
        return None

    async def on_view_submit(self, interaction: dict) -> dict | None:
        return None

    async def on_view_closed(self, interaction: dict) -> dict | None:
        return None

    async def on_action_button(self, interaction: dict) -> dict | None:
        return None

    @classmethod
    def implemented_hooks(cls) -> list[str]:
        return [h for h in APP_HOOKS if callable(getattr(cls, h, None))]
