"""Async hook runner: the only way hooks are called.

Pluggy calls implementations synchronously and knows nothing of coroutines, timeouts or isolation, so
every call goes through `HookRunner`, which walks the implementations itself (in pluggy's call order),
awaits async ones, bounds each with a timeout, and treats an implementation that raises or overruns as
"no opinion": it is logged with its plugin name and never fails the caller.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass
from typing import Any

import pluggy

log = logging.getLogger("orbitchat.hooks")

_NO_OPINION = object()


@dataclass(frozen=True)
class Denial:
    """A `pre_*_prevent` answer that stopped an operation."""

    plugin: str
    reason: str | None = None


class HookRunner:
    def __init__(self, pm: pluggy.PluginManager, timeout: float = 5.0) -> None:
        self._pm = pm
        self.timeout = timeout
        self._background: set[asyncio.Task] = set()

    # -- one implementation -------------------------------------------------------------------
    def _impls(self, name: str) -> list[pluggy.HookImpl]:
        caller = getattr(self._pm.hook, name, None)
        if caller is None:
            raise AttributeError(f"unknown hook {name!r}")
        # pluggy calls the last registered (and tryfirst) implementations first.
        return list(reversed(caller.get_hookimpls()))

    async def _call_one(self, impl: pluggy.HookImpl, name: str, kwargs: dict[str, Any]) -> Any:
        args = {a: kwargs.get(a) for a in impl.argnames}
        try:
            result = impl.function(**args)
            if inspect.isawaitable(result):
                async with asyncio.timeout(self.timeout):   # no extra task per call, unlike wait_for
                    result = await result
            return result
        except TimeoutError:
            log.warning("hook %s: %s did not answer within %.1fs; ignored", name, impl.plugin_name, self.timeout)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("hook %s: %s raised; ignored", name, impl.plugin_name)
        return _NO_OPINION

    # -- call kinds -----------------------------------------------------------------------------
    async def first_deny(self, name: str, **kwargs: Any) -> Denial | None:
        """`pre_*_prevent`: the first implementation answering truthy stops the operation.

        An answer may be `True` or a string reason. Returns the `Denial`, or None when nobody objected.
        """
        for impl in self._impls(name):
            answer = await self._call_one(impl, name, kwargs)
            if answer is not _NO_OPINION and answer:
                reason = answer if isinstance(answer, str) else None
                return Denial(impl.plugin_name, reason)
        return None

    async def pipeline(self, name: str, value: Any, value_arg: str, **kwargs: Any) -> Any:
        """`pre_*_modify` / `pre_*_extend`: each implementation receives the current value as `value_arg`
        and returns a replacement, or None to leave it unchanged. The final value is returned."""
        for impl in self._impls(name):
            answer = await self._call_one(impl, name, {**kwargs, value_arg: value})
            if answer is not _NO_OPINION and answer is not None:
                value = answer
        return value

    async def collect(self, name: str, **kwargs: Any) -> list[Any]:
        """`register_*`: concatenate every implementation's list (a scalar answer counts as one item)."""
        out: list[Any] = []
        for impl in self._impls(name):
            answer = await self._call_one(impl, name, kwargs)
            if answer is _NO_OPINION or answer is None:
                continue
            out.extend(answer if isinstance(answer, (list, tuple)) else [answer])
        return out

    async def first_result(self, name: str, **kwargs: Any) -> Any:
        """`provide_*`: the first non-None answer, or None."""
        for impl in self._impls(name):
            answer = await self._call_one(impl, name, kwargs)
            if answer is not _NO_OPINION and answer is not None:
                return answer
        return None

    async def call_each(self, name: str, **kwargs: Any) -> None:
        """Await every implementation in order (start-up and shutdown). Errors propagate, naming the
        plugin."""
        for impl in self._impls(name):
            args = {a: kwargs.get(a) for a in impl.argnames}
            try:
                result = impl.function(**args)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                raise RuntimeError(f"{name}: plugin {impl.plugin_name} failed: {exc!r}") from exc

    def notify(self, name: str, **kwargs: Any) -> None:
        """`post_*`: run every implementation in the background; never delays or fails the caller."""
        impls = self._impls(name)
        if not impls:
            return
        for impl in impls:
            task = asyncio.get_running_loop().create_task(self._call_one(impl, name, kwargs))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def has_implementations(self, name: str) -> bool:
        return bool(self._impls(name))

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for background notifications (shutdown and tests)."""
        pending = list(self._background)
        if pending:
            await asyncio.wait(pending, timeout=timeout)
