"""PostgreSQL stopped, killed and cut off under two gateways and concurrent clients.

One run (a module fixture) drives members' events, home reads, flag evaluations (OFREP and
GraphQL ``features``) and a province admin's pause/resume and rule edits through gateways A and
B, while the database suffers, in turn: ``pg_ctl stop -m immediate``, ``kill -9`` of the
postmaster, the same stop while no client calls, a silent network cut that heals, and one after
which the open connections never answer again (new ones do). After each, a flag changed through
A must be served by B within 2 s. The tests then judge the run: no acknowledged event lost or
counted twice, every answer coded, none hanging, flags always served, the audit chain and
versions in agreement. The module takes about a minute and a half and is bounded at five.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tenants.types import Role
from tests import world
from tests.faults import ledger
from tests.faults.checks import (
    FLAG_KINDS,
    MASKED,
    NO_ANSWER,
    Answer,
    Report,
    describe,
    first,
    violation,
)
from tests.faults.conftest import SUMMARIES, Gateway, Outage
from tests.faults.traffic import HANG_BOUND_S, RULES_FLAG, Traffic
from tests.rollout.plan_world import ADMIN, KEY

DOWN_S = 3.0  # how long the database stays down (or the network cut) under load
SETTLE_S = 3.0  # load after recovery, before the next fault
BASELINE_S = 3.0
CONVERGENCE_BOUND_S = 2.0
GIVE_UP_S = 30.0  # stop waiting for A to accept, or for B to serve, a change
SUITE_BOUND_S = 300.0
MEETINGS = "handbook.meetings"
# A restart while no client calls: nothing but the listeners notices the dead connections.
QUIET = "pg_ctl stop -m immediate, load held"
START = """
mutation($flag: String!) { startRollout(flag: $flag) { applied status errors { code message } } }
"""


@dataclass
class Run:
    report: Report
    ledger: ledger.Ledger
    elapsed_s: float
    accepted_after_s: dict[str, float | None] = field(default_factory=dict)
    ready_after: dict[str, int] = field(default_factory=dict)
    mutations_applied: int = 0
    before_s: dict[str, float | None] = field(default_factory=dict)  # B's lag just before
    flag_versions: list[int] = field(default_factory=list)  # acknowledged by A, in order


async def _immediate_stop(outage: Outage) -> None:
    await asyncio.to_thread(outage.cluster.stop_immediate)
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(outage.cluster.start)


async def _kill_postmaster(outage: Outage) -> None:
    await asyncio.to_thread(outage.cluster.kill_postmaster)
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(outage.cluster.start)  # retried while orphaned backends linger


async def _network_cut(outage: Outage) -> None:
    await asyncio.to_thread(outage.proxy.cut)
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(outage.proxy.heal)


async def _connections_dropped(outage: Outage) -> None:
    """A cut after which the connections open during it never answer again (new ones do)."""
    await asyncio.to_thread(outage.proxy.cut, forever=True)
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(outage.proxy.heal)


FAULTS: dict[str, Callable[[Outage], Awaitable[None]]] = {
    "pg_ctl stop -m immediate": _immediate_stop,
    "kill -9 postmaster": _kill_postmaster,
    QUIET: _immediate_stop,
    "network cut": _network_cut,
    "connections silently dropped": _connections_dropped,
}


async def _converge(
    traffic: Traffic, variant: str, versions: list[int]
) -> tuple[float | None, float | None]:
    """Change the flag through A (retried until accepted), then poll B until it serves it.

    Returns (seconds until A accepted, seconds from A's acknowledgment until B served it).
    """
    back = time.monotonic()
    version = None
    while version is None and time.monotonic() - back < GIVE_UP_S:
        version = await traffic.change_flag(variant, traffic.outage.a)
        if version is None:
            await asyncio.sleep(0.1)
    if version is None:
        return None, None
    versions.append(version)
    acknowledged = time.monotonic()
    while time.monotonic() - acknowledged < GIVE_UP_S:
        served = await traffic.served_version(traffic.outage.b)
        if served is not None and served >= version:
            return acknowledged - back, time.monotonic() - acknowledged
        await asyncio.sleep(0.05)
    return acknowledged - back, None


async def _drive(outage: Outage, traffic: Traffic, run: Run) -> None:
    workers = [
        *(traffic.ingest(n) for n in range(3)),
        *(traffic.read(n) for n in range(3)),
        *(traffic.evaluate(n) for n in range(2)),
        traffic.features(0),
        traffic.mutate(),
    ]
    tasks = [asyncio.create_task(w) for w in workers]
    try:
        await asyncio.sleep(BASELINE_S)
        variants = itertools.cycle(["off", "on"])
        accepted, lag = await _converge(traffic, next(variants), run.flag_versions)
        run.accepted_after_s["baseline"], run.report.convergence_s["baseline"] = accepted, lag
        for name, inject in FAULTS.items():
            # B is caught up (its listener works) before the fault, so what follows is the fault's
            _, run.before_s[name] = await _converge(traffic, next(variants), run.flag_versions)
            traffic.fault = name
            if name == QUIET:
                traffic.running.clear()
                await asyncio.sleep(1.0)  # what is in flight finishes
            await inject(outage)
            accepted, lag = await _converge(traffic, next(variants), run.flag_versions)
            run.accepted_after_s[name], run.report.convergence_s[name] = accepted, lag
            traffic.running.set()
            await asyncio.sleep(SETTLE_S)
    finally:
        traffic.stopping.set()
        await asyncio.wait(tasks, timeout=HANG_BOUND_S + 5)
        for task in tasks:
            task.cancel()


async def _start_plan(outage: Outage, client: httpx.AsyncClient) -> ledger.PlanMark:
    """Start the rollout plan through A (so it can be paused); its version and audit rows."""
    admin = outage.token(Role.PROVINCE_ADMIN, subject=ADMIN)
    begun = await client.post(
        f"{outage.a.url}/graphql",
        json={"query": START, "variables": {"flag": KEY}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert begun.json()["data"]["startRollout"]["applied"], begun.text
    conn = await ledger.connect(outage.cluster.server, outage.database.name)
    try:
        return await ledger.plan_mark(conn, KEY)
    finally:
        await conn.close()


async def _read_ledger(outage: Outage, traffic: Traffic, run: Run, mark: ledger.PlanMark) -> None:
    conn = await ledger.connect(outage.cluster.server, outage.database.name)
    try:
        await ledger.read_events(conn, run.ledger, world.YEN_MO)
        await ledger.read_plan(
            conn, run.ledger, KEY, mark, traffic.mutations_applied, traffic.mutations_sent
        )
        await ledger.read_flag(conn, run.ledger, MEETINGS, run.flag_versions)
        await ledger.read_flag(
            conn, run.ledger, RULES_FLAG, traffic.rules_acknowledged, traffic.rules_unacknowledged
        )
    finally:
        await conn.close()
    run.report.stored = run.ledger.stored
    run.mutations_applied = sum(traffic.mutations_applied.values())
    run.mutations_applied += len(traffic.rules_acknowledged)


def _seconds(values: dict[str, float | None]) -> str:
    return ", ".join(f"{k} {'never' if v is None else f'{v:.2f} s'}" for k, v in values.items())


def _summary(run: Run, traffic: Traffic) -> str:
    steps = ", ".join(
        f"{action} {traffic.mutations_applied[action]}/{traffic.mutations_sent[action]}"
        for action in ("pause", "resume")
    )
    return (
        f"{run.report.summary()}"
        f"\n  A accepted a change after recovery: {_seconds(run.accepted_after_s)}"
        f"\n  B's lag just before each fault: {_seconds(run.before_s)}"
        f"\n  admin changes acknowledged/sent: {steps}; rules {len(traffic.rules_acknowledged)}"
        f" acknowledged, {traffic.rules_unacknowledged} unanswered"
        f"\n  run took {run.elapsed_s:.1f} s"
    )


@pytest.fixture(scope="module")
async def run(outage: Outage) -> Run:
    """The whole scenario, once; the tests below judge what it recorded."""
    started = time.monotonic()
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits) as client:
        traffic = Traffic(outage, client)
        mark = await _start_plan(outage, client)
        report = Report(traffic.answers, traffic.acknowledged, Counter(), traffic.sent)
        result = Run(report, ledger.Ledger(), 0.0)
        await _drive(outage, traffic, result)
        for gateway in (outage.a, outage.b):
            ready = await client.get(f"{gateway.url}/readyz")
            result.ready_after[gateway.name] = ready.status_code
    await _read_ledger(outage, traffic, result, mark)
    result.elapsed_s = time.monotonic() - started
    SUMMARIES.append(_summary(result, traffic))
    return result


def test_no_acknowledged_event_is_lost(run: Run) -> None:
    # given / when: the run; then
    assert run.report.acknowledged, "no event was acknowledged: the load did not run"
    lost = run.report.lost
    assert not lost, (
        f"{len(lost)} of {len(run.report.acknowledged)} acknowledged events are not stored,"
        f" e.g. {first(lost)}"
    )


def test_no_event_is_stored_or_counted_twice(run: Run) -> None:
    duplicated, phantom = run.report.duplicated, run.report.phantom
    assert not duplicated, f"{len(duplicated)} events stored twice, e.g. {first(duplicated)}"
    assert not phantom, f"{len(phantom)} stored events nobody sent, e.g. {first(phantom)}"
    assert not run.ledger.problems.get("counters"), run.ledger.problems["counters"]


def test_every_answer_is_coded(run: Run) -> None:
    violations = [(a, why) for a, why in run.report.violations() if a.kind not in FLAG_KINDS]
    assert not violations, describe(violations)


def test_no_request_hangs(run: Run) -> None:
    # a reset connection is judged by test_every_answer_is_coded; here: the client gave up
    slow = [a for a in run.report.answers if a.latency_s >= HANG_BOUND_S]
    assert not slow, describe([(a, f"no answer within {HANG_BOUND_S:.0f} s") for a in slow])


def test_flags_keep_serving(run: Run) -> None:
    flags = [a for a in run.report.answers if a.kind in FLAG_KINDS]
    failed = [(a, why) for a in flags if (why := violation(a)) is not None]
    assert {a.kind for a in flags} == FLAG_KINDS
    assert not failed, describe(failed)


def test_audit_chain_plan_state_and_versions_agree(run: Run) -> None:
    assert run.mutations_applied, "no admin's change was applied: the admin's load did not run"
    problems = {k: v for k, v in run.ledger.problems.items() if k in ("audit", "version")}
    assert not problems, problems


def test_replica_b_serves_a_change_through_a_within_two_seconds(run: Run) -> None:
    slow = {
        fault: seconds
        for fault, seconds in run.report.convergence_s.items()
        if seconds is None or seconds > CONVERGENCE_BOUND_S
    }
    assert not slow, f"B served A's change too late (s, None = never): {slow}"


def test_gateways_are_ready_afterwards_and_the_run_is_bounded(run: Run) -> None:
    assert run.ready_after == {"A": 200, "B": 200}
    assert run.elapsed_s < SUITE_BOUND_S


# --- the checker itself catches planted faults -------------------------------------------


def _answer(kind: str, status: int, codes: tuple[str, ...] = (), **rest: Any) -> Answer:
    return Answer(kind, "A", "planted", status, codes, 0.1, **rest)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (_answer("events", 500), "uncoded 500"),
        (_answer("graphql", 200, ("INTERNAL_SERVER_ERROR",)), "masked"),
        (_answer("graphql", 503, ("SERVICE_UNAVAILABLE",)), "without Retry-After"),
        (_answer("events", NO_ANSWER, error="none within 20 s"), "no answer"),
        (_answer("ofrep", 503, ("SERVICE_UNAVAILABLE",), retry_after="5"), "flags must keep"),
        (_answer("mutation", 400, ("BAD_REQUEST",)), "unexpected 400 BAD_REQUEST"),
    ],
)
def test_the_checker_flags_a_planted_fault(answer: Answer, reason: str) -> None:
    # when
    found = violation(answer)
    # then
    assert found is not None
    assert reason in found


@pytest.mark.parametrize(
    "answer",
    [
        _answer("events", 200),
        _answer("graphql", 503, ("SERVICE_UNAVAILABLE",), retry_after="5"),
        _answer("events", 503, ("OVERLOADED",), retry_after="1"),
        _answer("graphql", 200, ("QUERY_TIMEOUT",)),
        _answer("ofrep", 200),
    ],
)
def test_the_checker_accepts_coded_answers(answer: Answer) -> None:
    assert violation(answer) is None


def test_the_report_finds_a_lost_and_a_doubled_event() -> None:
    # given: three acknowledged events; one never stored, one stored twice, one stored unsent
    report = Report(
        answers=[],
        acknowledged={"a", "b", "c"},
        stored=Counter({"a": 1, "b": 2, "x": 1}),
        sent={"a", "b", "c"},
    )
    # then
    assert report.lost == ["c"]
    assert report.duplicated == ["b"]
    assert report.phantom == ["x"]


PLANTED = {
    "/uncoded": httpx.Response(500, text="Internal Server Error"),
    "/masked": httpx.Response(
        200,
        json={"data": None, "errors": [{"message": "x", "extensions": {"code": MASKED}}]},
    ),
    "/no-retry-after": httpx.Response(
        503, json={"errors": [{"message": "x", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}
    ),
    "/coded": httpx.Response(
        503,
        json={"errors": [{"message": "x", "extensions": {"code": "OVERLOADED"}}]},
        headers={"Retry-After": "1"},
    ),
}


async def test_recorded_planted_answers_are_judged_as_a_client_would() -> None:
    # given: a server answering each path with a planted answer, reached as the load reaches one
    transport = httpx.MockTransport(lambda request: PLANTED[request.url.path])
    gateway = Gateway("A", "http://planted", process=None, log=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport) as client:
        traffic = Traffic(outage=None, client=client)  # type: ignore[arg-type]
        # when
        for path in PLANTED:
            await traffic.call("events", gateway, path, "token", [])
    # then
    verdicts = {path: violation(a) for path, a in zip(PLANTED, traffic.answers, strict=True)}
    assert verdicts == {
        "/uncoded": "uncoded 500",
        "/masked": f"200 with a masked or uncoded error ('{MASKED}',)",
        "/no-retry-after": "503 without Retry-After",
        "/coded": None,
    }
