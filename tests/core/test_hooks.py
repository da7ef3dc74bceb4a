"""HookRunner semantics on a real app: first_deny, pipeline, collect, first_result, notify, and isolation of
implementations that raise or hang. A route calls the runner, so outcomes are observed over HTTP."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from core import hookimpl
from core.errors import ApiError
from core.rest import Route
from tests.core import probe_hookspecs
from tests.helpers import StaticAuth

HANG = object()


class ProbeRoutes:
    """The code under observation: a route that runs every kind of hook call on its input."""

    name = "probe_routes"

    def __init__(self) -> None:
        self.hooks: Any = None

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self.hooks = api.hooks

    @hookimpl
    def register_routes(self) -> list[Route]:
        return [Route("POST", "probe.run", self.run, auth=False, rate_limit=None, body={"type": "object"}),
                Route("GET", "probe.collect", self.collect, auth=False, rate_limit=None),
                Route("GET", "probe.provide", self.provide, auth=False, rate_limit=None)]

    async def run(self, req: Any) -> dict:
        thing = dict(req.body)
        denial = await self.hooks.first_deny("pre_probe_prevent", thing=thing)
        if denial is not None:
            raise ApiError(denial.reason or "Prevented", "error-prevented", details={"plugin": denial.plugin})
        thing = await self.hooks.pipeline("pre_probe_modify", thing, "thing")
        self.hooks.notify("post_probe", thing=thing)
        return {"thing": thing}

    async def collect(self, req: Any) -> dict:
        return {"probes": await self.hooks.collect("register_probes")}

    async def provide(self, req: Any) -> dict:
        return {"answer": await self.hooks.first_result("provide_probe", key="k")}


class Probe:
    """One implementation of every probe hook. Each behaviour is a value to answer, an exception to raise,
    HANG to never answer, or a callable computing the answer from the hook's argument."""

    def __init__(self, name: str, calls: list, **behaviour: Any) -> None:
        self.name = name
        self.calls = calls
        self.behaviour = behaviour

    async def _act(self, hook: str, arg: Any = None) -> Any:
        self.calls.append((hook, self.name))
        b = self.behaviour.get(hook)
        if b is HANG:
            await asyncio.Event().wait()
        if isinstance(b, BaseException):
            raise b
        if callable(b):
            b = b(arg)
            if asyncio.iscoroutine(b):
                b = await b
        return b

    @hookimpl
    async def pre_probe_prevent(self, thing: dict) -> Any:
        return await self._act("prevent", thing)

    @hookimpl
    async def pre_probe_modify(self, thing: dict) -> Any:
        return await self._act("modify", thing)

    @hookimpl
    def register_probes(self) -> Any:
        self.calls.append(("probes", self.name))
        b = self.behaviour.get("probes")
        if isinstance(b, BaseException):
            raise b
        return b

    @hookimpl
    async def provide_probe(self, key: str) -> Any:
        return await self._act("provide", key)

    @hookimpl
    async def post_probe(self, thing: dict) -> Any:
        return await self._act("post", thing)


class LastProbe(Probe):
    """Same, but its modify runs after every other implementation (`trylast`)."""

    @hookimpl(trylast=True)
    async def pre_probe_modify(self, thing: dict) -> Any:
        return await self._act("modify", thing)


def trail(name: str):
    """A modify behaviour appending `name` to the value's trail (a new dict: a replacement)."""
    return lambda thing: {**thing, "trail": [*thing.get("trail", []), name]}


async def probe_server(server_factory, *probes: Probe, **config: Any):
    """An app with the probe route; the probe specs are added and `probes` registered in this order."""
    srv = await server_factory(plugins=(ProbeRoutes(),), **config)
    srv.kernel.pm.add_hookspecs(probe_hookspecs)
    for p in probes:
        srv.kernel.pm.register(p, name=p.name)
    return srv


# -- first_deny ---------------------------------------------------------------------------------------
async def test_first_deny_deny_wins_and_carries_reason(server_factory):
    calls: list = []
    # pluggy calls the last registered first: "allow" answers first (no objection), then "deny".
    srv = await probe_server(server_factory,
                             Probe("late", calls, prevent=True),
                             Probe("deny", calls, prevent=lambda t: "too spicy" if t.get("spicy") else None),
                             Probe("allow", calls, prevent=False))
    r = await srv.http.post("/api/v1/probe.run", json={"spicy": True})
    assert r.status_code == 400
    assert r.json() == {"success": False, "error": "too spicy", "errorType": "error-prevented",
                        "details": {"plugin": "deny"}}
    # The first refusal stops the walk: "late" was never asked, and nothing was modified.
    assert calls == [("prevent", "allow"), ("prevent", "deny")]


async def test_first_deny_true_without_reason_and_no_objection(server_factory):
    calls: list = []
    srv = await probe_server(server_factory,
                             Probe("deny", calls, prevent=lambda t: t.get("bad", False)),
                             Probe("allow", calls, prevent=None))
    r = await srv.http.post("/api/v1/probe.run", json={"bad": True})
    assert r.status_code == 400
    assert r.json()["error"] == "Prevented" and r.json()["details"] == {"plugin": "deny"}
    r = await srv.http.post("/api/v1/probe.run", json={"bad": False})
    assert r.status_code == 200
    assert r.json() == {"thing": {"bad": False}, "success": True}


# -- pipeline -----------------------------------------------------------------------------------------
async def test_pipeline_chains_modifications_in_pluggy_order(server_factory):
    calls: list = []
    srv = await probe_server(server_factory,
                             LastProbe("last", calls, modify=trail("last")),
                             Probe("first", calls, modify=trail("first")),
                             Probe("noop", calls, modify=None),
                             Probe("second", calls, modify=trail("second")))
    r = await srv.http.post("/api/v1/probe.run", json={"trail": ["client"]})
    assert r.status_code == 200
    # Registered: last(trylast), first, noop, second -> called: second, noop, first, last.
    # Each receives the previous replacement; None leaves the value unchanged.
    assert r.json()["thing"] == {"trail": ["client", "second", "first", "last"]}
    assert [c for c in calls if c[0] == "modify"] == [("modify", "second"), ("modify", "noop"),
                                                      ("modify", "first"), ("modify", "last")]


# -- collect and first_result ---------------------------------------------------------------------------
async def test_collect_concatenates_lists_and_scalars(server_factory):
    calls: list = []
    srv = await probe_server(server_factory,
                             Probe("a", calls, probes=["a1", "a2"]),
                             Probe("broken", calls, probes=RuntimeError("boom")),
                             Probe("none", calls, probes=None),
                             Probe("b", calls, probes="b1"))
    r = await srv.http.get("/api/v1/probe.collect")
    assert r.status_code == 200
    assert r.json()["probes"] == ["b1", "a1", "a2"]


async def test_first_result_takes_first_answer(server_factory):
    calls: list = []
    srv = await probe_server(server_factory,
                             Probe("never", calls, provide="never asked"),
                             Probe("answer", calls, provide="forty-two"),
                             Probe("broken", calls, provide=ValueError("nope")),
                             Probe("silent", calls, provide=None))
    r = await srv.http.get("/api/v1/probe.provide")
    assert r.json() == {"answer": "forty-two", "success": True}
    assert [c[1] for c in calls if c[0] == "provide"] == ["silent", "broken", "answer"]


# -- notify -------------------------------------------------------------------------------------------
async def test_notify_runs_in_background_and_does_not_delay_response(server_factory):
    entered, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()
    seen: list = []

    async def slow(thing: dict) -> None:
        entered.set()
        await release.wait()       # held until the test has its response
        seen.append(thing)
        finished.set()

    calls: list = []
    srv = await probe_server(server_factory,
                             Probe("slow", calls, post=slow),
                             Probe("raising", calls, post=RuntimeError("post failed")))
    r = await srv.http.post("/api/v1/probe.run", json={"n": 1})
    assert r.status_code == 200 and r.json()["thing"] == {"n": 1}
    # The response is here while the post hook is still blocked inside its implementation.
    assert not finished.is_set()
    await asyncio.wait_for(entered.wait(), 5)
    assert not finished.is_set()
    release.set()
    await asyncio.wait_for(finished.wait(), 5)
    assert seen == [{"n": 1}]
    assert ("post", "raising") in calls   # the raising sibling ran too, and failed nobody


# -- isolation: raising and hanging implementations -----------------------------------------------------
async def test_raising_and_hanging_implementations_are_isolated(server_factory, caplog):
    calls: list = []
    srv = await probe_server(server_factory,
                             Probe("deny", calls, prevent=lambda t: "refused" if t.get("refuse") else None,
                                   modify=trail("ok")),
                             Probe("hangs", calls, prevent=HANG, modify=HANG),
                             Probe("raises", calls, prevent=RuntimeError("kaboom"), modify=KeyError("x")),
                             hook_timeout=0.5)
    caplog.set_level(logging.WARNING, logger="orbitchat.hooks")
    r = await srv.http.post("/api/v1/probe.run", json={"refuse": False})
    # Both broken implementations count as "no opinion": the request succeeds with the good one's result.
    assert r.status_code == 200
    assert r.json()["thing"] == {"refuse": False, "trail": ["ok"]}
    # And they did not stop a later implementation from refusing.
    r = await srv.http.post("/api/v1/probe.run", json={"refuse": True})
    assert r.status_code == 400 and r.json()["error"] == "refused"
    assert [c[1] for c in calls if c[0] == "prevent"] == ["raises", "hangs", "deny"] * 2
    messages = [rec.getMessage() for rec in caplog.records]
    assert any("pre_probe_prevent: raises raised; ignored" in m for m in messages)
    assert any("pre_probe_prevent: hangs did not answer within 0.5s" in m for m in messages)
    assert any("pre_probe_modify: raises raised; ignored" in m for m in messages)
    assert "kaboom" not in r.text   # nothing of the failure reaches the client


async def test_raising_auth_hook_does_not_fail_requests(server_factory):
    class BrokenAuth:
        name = "broken_auth"

        @hookimpl(tryfirst=True)
        async def provide_user_by_token(self, user_id: str, hashed_token: str) -> dict | None:
            raise RuntimeError("user store down")

        @hookimpl(tryfirst=True)
        async def provide_permission_check(self, user: dict, permission: str, rid: str | None) -> bool | None:
            await asyncio.Event().wait()
            return None

    auth = StaticAuth({"admin": {"view-statistics"}})
    srv = await server_factory(plugins=(auth, BrokenAuth()), hook_timeout=0.5)
    headers = auth.add_user("boss", ("admin",))
    r = await srv.http.get("/api/info", headers=headers)
    assert r.status_code == 200
    assert r.json()["info"]["plugins"] == ["static_auth", "broken_auth"]


async def test_unknown_hook_name_is_a_programming_error(server):
    with pytest.raises(AttributeError, match="unknown hook"):
        await server.kernel.hooks.first_result("provide_nothing_at_all")


async def test_failing_startup_aborts_with_plugin_named(server_factory):
    class BadStart:
        name = "bad_start"

        @hookimpl
        async def orbitchat_startup(self, api: Any) -> None:
            raise RuntimeError("cannot reach the thing")

    with pytest.raises(Exception, match=r"orbitchat_startup: plugin bad_start failed.*cannot reach the"):
        await server_factory(plugins=(BadStart(),))
