"""Service broker: `call` a service action, `emit` an event, `subscribe` to events.

Services never import each other; they talk through the broker (Rocket.Chat's core-services idea). The
transport is pluggable: `LocalTransport` keeps everything in-process; a network transport (NATS) carries
the same calls and events between OrbitChat processes. Payloads must be JSON-serialisable values.
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("orbitchat.broker")

Action = Callable[..., Awaitable[Any]]
Listener = Callable[[Any], Awaitable[None] | None]


class ServiceNotFound(LookupError):
    pass


class Transport(ABC):
    """What the broker needs from a transport. Implementations: in-process, NATS."""

    def bind(self, broker: Broker) -> None:
        self._broker = broker

    async def start(self) -> None:  # pragma: no cover - trivial default
        return None

    async def stop(self) -> None:  # pragma: no cover - trivial default
        return None

    @abstractmethod
    async def publish(self, event: str, payload: Any) -> None:
        """Deliver an event to every subscriber in every process (this one included)."""

    @abstractmethod
    async def request(self, action: str, args: list[Any], kwargs: dict[str, Any], timeout: float) -> Any:
        """Invoke an action served by some process; raise ServiceNotFound if nobody serves it."""

    @abstractmethod
    async def serve(self, action: str) -> None:
        """Announce that this process serves `action` (the broker dispatches it locally)."""

    @abstractmethod
    async def listen(self, event: str) -> None:
        """Make sure events named `event` reach this process."""

    async def listen_group(self, event: str, group: str) -> None:
        """Make sure `event` reaches the `group` listeners of exactly one process among those that have
        some. A transport that cannot share out events delivers them to every process's group."""
        await self.listen(event)


class Broker:
    def __init__(self, transport: Transport | None = None, call_timeout: float = 10.0) -> None:
        self._actions: dict[str, Action] = {}
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._groups: dict[tuple[str, str], list[Listener]] = defaultdict(list)
        self.call_timeout = call_timeout
        self.transport = transport or LocalTransport()
        self.transport.bind(self)

    # -- actions --------------------------------------------------------------------------------
    async def register(self, action: str, handler: Action) -> None:
        if action in self._actions:
            raise ValueError(f"broker action {action!r} is already registered")
        self._actions[action] = handler
        await self.transport.serve(action)

    def serves(self, action: str) -> bool:
        return action in self._actions

    async def call(self, action: str, *args: Any, **kwargs: Any) -> Any:
        """Call `action`; in-process handlers are called directly, others through the transport."""
        handler = self._actions.get(action)
        if handler is not None:
            return await handler(*args, **kwargs)
        return await self.transport.request(action, list(args), kwargs, self.call_timeout)

    async def dispatch_action(self, action: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        handler = self._actions.get(action)
        if handler is None:
            raise ServiceNotFound(action)
        return await handler(*args, **kwargs)

    # -- events ---------------------------------------------------------------------------------
    async def subscribe(self, event: str, listener: Listener, group: str | None = None) -> Callable[[], None]:
        """Listen to `event` in this process. With a `group`, work meant to be done once however many
        processes run the service (counting a message): of the processes listening in that group, one
        receives each event."""
        listeners = self._listeners[event] if group is None else self._groups[(event, group)]
        first = not listeners
        listeners.append(listener)
        if first:
            await (self.transport.listen(event) if group is None else self.transport.listen_group(event, group))

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return unsubscribe

    async def emit(self, event: str, payload: Any = None) -> None:
        await self.transport.publish(event, payload)

    async def deliver(self, event: str, payload: Any, groups: bool = True) -> None:
        """Hand an event to this process's listeners, in subscription order, each isolated; `groups`: its
        group listeners too (the transport delivers them itself when it shares events out)."""
        await self._run(event, self._listeners.get(event, ()), payload)
        if groups and self._groups:
            for (name, _), listeners in list(self._groups.items()):
                if name == event:
                    await self._run(event, listeners, payload)

    async def deliver_group(self, event: str, group: str, payload: Any) -> None:
        await self._run(event, self._groups.get((event, group), ()), payload)

    @staticmethod
    async def _run(event: str, listeners: Any, payload: Any) -> None:
        for listener in list(listeners):
            try:
                result = listener(payload)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("listener for %s failed", event)

    async def start(self) -> None:
        await self.transport.start()

    async def stop(self) -> None:
        await self.transport.stop()


class LocalTransport(Transport):
    """Everything stays in this process."""

    async def publish(self, event: str, payload: Any) -> None:
        await self._broker.deliver(event, payload)

    async def request(self, action: str, args: list[Any], kwargs: dict[str, Any], timeout: float) -> Any:
        return await asyncio.wait_for(self._broker.dispatch_action(action, args, kwargs), timeout)

    async def serve(self, action: str) -> None:
        return None

    async def listen(self, event: str) -> None:
        return None

    async def listen_group(self, event: str, group: str) -> None:
        return None
