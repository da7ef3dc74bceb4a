"""NATS transport for the broker: several OrbitChat processes sharing one NATS server act as one.

Subjects: `<prefix>.evt.<event>` for events, `<prefix>.act.<action>` (queue group) for calls. Payloads are
EJSON, so dates survive the trip. An event is delivered to this process's listeners directly and to every
other process through NATS; each process ignores its own echo, so local listeners see an event exactly once
and before `emit` returns, as with the in-process transport.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import nats
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from core import jsonutil
from core.broker import ServiceNotFound, Transport
from core.context import random_id
from core.errors import ApiError

log = logging.getLogger("orbitchat.broker.nats")

ORIGIN = "Orbit-Origin"


def _error_payload(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"type": "api", "message": exc.message, "error_type": exc.error_type, "status": exc.status,
                "details": exc.details, "extra": exc.extra}
    if isinstance(exc, ServiceNotFound):
        return {"type": "not_found", "message": str(exc)}
    return {"type": "internal", "message": "Internal server error"}


def _raise_remote(err: dict[str, Any], action: str) -> None:
    if err.get("type") == "api":
        raise ApiError(err["message"], err.get("error_type"), status=err.get("status"), details=err.get("details"),
                       extra=err.get("extra"))
    if err.get("type") == "not_found":
        raise ServiceNotFound(action)
    raise RuntimeError(f"remote action {action} failed: {err.get('message')}")


_UNDECODABLE = object()


def _event_payload(msg: Any) -> Any:
    try:
        return jsonutil.ejson_loads(msg.data)
    except ValueError:
        log.error("undecodable event on %s", msg.subject)
        return _UNDECODABLE


class NatsTransport(Transport):
    def __init__(self, url: str, prefix: str | None = None) -> None:
        self.url = url
        self.prefix = prefix or os.environ.get("ORBITCHAT_NATS_PREFIX", "orbitchat")
        self.instance = random_id(12)
        self.nc: Any = None
        self._subs: list[Any] = []
        self._pending: list[tuple[str, str, str]] = []   # (kind, name, group) asked for before start()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        self.nc = await nats.connect(self.url, name=f"orbitchat-{self.instance}", max_reconnect_attempts=-1,
                                     reconnect_time_wait=0.5)
        pending, self._pending = self._pending, []
        for kind, name, group in pending:
            if kind == "act":
                await self.serve(name)
            elif group:
                await self.listen_group(name, group)
            else:
                await self.listen(name)

    async def stop(self) -> None:
        if self.nc is not None:
            try:
                await self.nc.drain()
            except Exception:
                log.exception("NATS drain failed")
            self.nc = None

    # -- events ---------------------------------------------------------------------------------
    async def publish(self, event: str, payload: Any) -> None:
        if self.nc is not None:
            data = jsonutil.ejson_dumps(payload)
            await self.nc.publish(f"{self.prefix}.evt.{event}", data, headers={ORIGIN: self.instance})
            await self._broker.deliver(event, payload, groups=False)   # groups: through their queue, below
        else:
            await self._broker.deliver(event, payload)

    async def listen(self, event: str) -> None:
        if self.nc is None:
            self._pending.append(("evt", event, ""))
            return

        async def on_event(msg: Any) -> None:
            if (msg.headers or {}).get(ORIGIN) == self.instance:
                return
            payload = _event_payload(msg)
            if payload is not _UNDECODABLE:
                await self._broker.deliver(event, payload, groups=False)

        self._subs.append(await self.nc.subscribe(f"{self.prefix}.evt.{event}", cb=on_event))

    async def listen_group(self, event: str, group: str) -> None:
        """A NATS queue group per listener group: one subscribed process gets each event, this one
        included when it published it."""
        if self.nc is None:
            self._pending.append(("evt", event, group))
            return

        async def on_event(msg: Any) -> None:
            payload = _event_payload(msg)
            if payload is not _UNDECODABLE:
                await self._broker.deliver_group(event, group, payload)

        self._subs.append(await self.nc.subscribe(f"{self.prefix}.evt.{event}", queue=f"grp.{group}",
                                                  cb=on_event))

    # -- actions --------------------------------------------------------------------------------
    async def request(self, action: str, args: list[Any], kwargs: dict[str, Any], timeout: float) -> Any:
        if self.nc is None:
            raise ServiceNotFound(action)
        data = jsonutil.ejson_dumps({"args": args, "kwargs": kwargs})
        try:
            reply = await self.nc.request(f"{self.prefix}.act.{action}", data, timeout=timeout)
        except NoRespondersError:
            raise ServiceNotFound(action) from None
        except NatsTimeout:
            raise TimeoutError(f"broker action {action} timed out") from None
        body = jsonutil.ejson_loads(reply.data)
        if "error" in body:
            _raise_remote(body["error"], action)
        return body.get("result")

    async def serve(self, action: str) -> None:
        if self.nc is None:
            self._pending.append(("act", action, ""))
            return

        async def handle(msg: Any) -> None:
            try:
                call = jsonutil.ejson_loads(msg.data)
                result = await self._broker.dispatch_action(action, call.get("args", []), call.get("kwargs", {}))
                body = {"result": result}
            except Exception as exc:  # the caller gets the error; this process keeps serving
                if not isinstance(exc, (ApiError, ServiceNotFound)):
                    log.exception("broker action %s failed", action)
                body = {"error": _error_payload(exc)}
            await msg.respond(jsonutil.ejson_dumps(body))

        async def on_call(msg: Any) -> None:
            # Calls run concurrently; nats-py would otherwise serialise them per subscription.
            task = asyncio.get_running_loop().create_task(handle(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        # A queue group: exactly one serving process answers each call.
        self._subs.append(await self.nc.subscribe(f"{self.prefix}.act.{action}", queue="svc", cb=on_call))
