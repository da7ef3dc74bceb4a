"""`pre_*_prevent` hooks of several apps, asked at once.

The hook runner asks implementations one after the other and stops at the first refusal. With apps, each ask is
a round trip to another process, so five apps would cost five round trips in a row. When the first app's proxy
is called, this sends the same question to it and to every app after it in call order, concurrently; each later
proxy then picks up its own answer. The outcome is the runner's rule unchanged (the first refusal in order wins);
the difference is only that apps after a refusing one were asked too (their answers are dropped), so a prevent
hook should only judge, as Rocket.Chat's are meant to.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugins.apps_engine.runner import RunningApp


@dataclass
class _Batch:
    anchor: Any                                   # the hook's first argument: one runner call shares it
    answers: dict[str, asyncio.Future] = field(default_factory=dict)


def _retrieve(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()   # an answer nobody waits for (after a refusal) must not warn as "never retrieved"


class PreventFanOut:
    def __init__(self) -> None:
        self.order: list[RunningApp] = []         # proxies in the runner's call order (kept by the engine)
        self._batches: dict[tuple[str, int], _Batch] = {}

    async def call(self, app: RunningApp, hook: str, payload: dict[str, Any]) -> Any:
        if not hook.endswith("_prevent") or not payload:
            return await app.call_hook(hook, payload)
        anchor = next(iter(payload.values()))
        key = (hook, id(anchor))
        batch = self._batches.get(key)
        if batch is None or batch.anchor is not anchor:
            batch = self._start(app, hook, payload, key, anchor)
        answer = batch.answers.pop(app.app_id, None)
        if not batch.answers and self._batches.get(key) is batch:
            del self._batches[key]
        if answer is None:                       # not part of the batch (registered meanwhile): ask directly
            return await app.call_hook(hook, payload)
        result = await answer
        if result and self._batches.get(key) is batch:
            del self._batches[key]               # a refusal: the runner asks no one after this app
        return result

    def _start(self, app: RunningApp, hook: str, payload: dict[str, Any], key: tuple[str, int], anchor: Any) -> _Batch:
        batch = _Batch(anchor)
        following = False
        for other in self.order:
            following = following or other is app
            if following and hook in other.hooks:
                fut = asyncio.ensure_future(other.call_hook(hook, payload))
                fut.add_done_callback(_retrieve)
                batch.answers[other.app_id] = fut
        if len(batch.answers) > 1:
            self._batches[key] = batch
            timeout = max(a.sandbox.process.limits.call_timeout for a in self.order) + 1.0
            asyncio.get_running_loop().call_later(timeout, self._expire, key, batch)
        return batch

    def _expire(self, key: tuple[str, int], batch: _Batch) -> None:
        if self._batches.get(key) is batch:
            del self._batches[key]
