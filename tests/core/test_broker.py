"""Broker semantics through a running app's kernel: actions called by name, events delivered to every
listener in order with failures isolated, and services reaching each other only through it."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core import hookimpl
from core.broker import ServiceNotFound


class Counter:
    """A service that offers actions and listens to an event, as a plugin would at start-up."""

    name = "counter"

    def __init__(self) -> None:
        self.total = 0
        self.seen: list[Any] = []

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        await api.broker.register("counter.add", self.add)
        await api.broker.register("counter.fail", self.fail)
        await api.broker.subscribe("counter.reset", self.on_reset)

    async def add(self, n: int, *, times: int = 1) -> int:
        self.total += n * times
        return self.total

    async def fail(self) -> None:
        raise ValueError("counter says no")

    def on_reset(self, payload: Any) -> None:
        self.seen.append(payload)
        self.total = 0


@pytest.fixture
async def broker_app(server_factory):
    counter = Counter()
    srv = await server_factory(plugins=(counter, "settings"))
    srv.counter = counter
    return srv


async def test_call_registered_action(broker_app):
    broker = broker_app.kernel.broker
    assert broker.serves("counter.add")
    assert await broker.call("counter.add", 2) == 2
    assert await broker.call("counter.add", 3, times=2) == 8
    with pytest.raises(ValueError, match="counter says no"):   # an action's own error reaches its caller
        await broker.call("counter.fail")


async def test_unknown_action_is_service_not_found(broker_app):
    with pytest.raises(ServiceNotFound):
        await broker_app.kernel.broker.call("nobody.serves.this", 1)


async def test_action_names_are_unique(broker_app):
    with pytest.raises(ValueError, match="already registered"):
        await broker_app.kernel.broker.register("counter.add", broker_app.counter.add)


async def test_emit_reaches_listeners_in_order_isolated(broker_app):
    broker = broker_app.kernel.broker
    order: list[str] = []

    def first(payload: Any) -> None:
        order.append("first")

    def broken(payload: Any) -> None:
        order.append("broken")
        raise RuntimeError("listener bug")

    async def last(payload: Any) -> None:
        await asyncio.sleep(0)
        order.append(f"last:{payload['n']}")

    await broker.subscribe("thing.happened", first)
    await broker.subscribe("thing.happened", broken)
    unsubscribe = await broker.subscribe("thing.happened", last)
    await broker.emit("thing.happened", {"n": 1})   # does not raise although a listener did
    assert order == ["first", "broken", "last:1"]
    unsubscribe()
    unsubscribe()   # idempotent
    await broker.emit("thing.happened", {"n": 2})
    assert order == ["first", "broken", "last:1", "first", "broken"]
    await broker.emit("nobody.listens", {"n": 3})   # an event without listeners is not an error


async def test_plugin_listener_and_settings_actions(broker_app):
    broker = broker_app.kernel.broker
    await broker.call("counter.add", 5)
    await broker.emit("counter.reset", {"by": "test"})
    assert broker_app.counter.seen == [{"by": "test"}] and broker_app.counter.total == 0
    # The settings service is reached through the broker too, never imported.
    assert await broker.call("settings.get", "API_Default_Count") == 50
    changes: list = []
    await broker.subscribe("watch.settings", changes.append)
    assert await broker.call("settings.set", "API_Default_Count", 20) == {"_id": "API_Default_Count",
                                                                           "value": 20}
    assert await broker.call("settings.get", "API_Default_Count") == 20
    assert changes[0]["setting"]["_id"] == "API_Default_Count" and changes[0]["setting"]["value"] == 20


async def test_each_app_has_its_own_broker(server_factory):
    a = await server_factory(plugins=(Counter(),))
    b = await server_factory(plugins=())
    assert a.kernel.broker is not b.kernel.broker
    assert a.kernel.broker.serves("counter.add") and not b.kernel.broker.serves("counter.add")
    with pytest.raises(ServiceNotFound):
        await b.kernel.broker.call("counter.add", 1)
