"""What the database holds after the faults: event rows and rollups, the audit chain, versions.

Read as the cluster's superuser, so row-level security hides nothing from the checks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from tests.databases import PgServer

PROVINCE = "ninh-binh"


@dataclass
class Ledger:
    stored: Counter[str] = field(default_factory=Counter)  # event id → rows
    problems: dict[str, list[str]] = field(default_factory=dict)  # check → what disagrees

    def problem(self, check: str, text: str) -> None:
        self.problems.setdefault(check, []).append(text)


@dataclass(frozen=True)
class PlanMark:
    """The plan's version and audit rows at a moment, to compare with a later one."""

    version: int
    audited: int


async def connect(server: PgServer, database: str, within_s: float = 30.0) -> Any:
    """A superuser connection, retried while the cluster finishes recovering."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        try:
            return await server.connect(database)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.3)


async def plan_mark(conn: Any, flag_key: str) -> PlanMark:
    plan = await conn.fetchrow(
        "SELECT id, version FROM rollout_plans WHERE province_id = $1 AND flag_key = $2",
        PROVINCE,
        flag_key,
    )
    audited = await conn.fetchval(
        "SELECT count(*) FROM rollout_audit WHERE plan_id = $1", plan["id"]
    )
    return PlanMark(plan["version"], audited)


async def read_events(conn: Any, ledger: Ledger, tenant: str) -> None:
    """Event rows per id; ids, rows and both rollups must agree on the count."""
    rows = await conn.fetch(
        "SELECT event_id::text AS id, count(*) AS n FROM adoption_events"
        " WHERE tenant_id = $1 GROUP BY 1",
        tenant,
    )
    ledger.stored.update({row["id"]: row["n"] for row in rows})
    counts = {
        "event rows": sum(ledger.stored.values()),
        "exactly-once ids": await conn.fetchval(
            "SELECT count(*) FROM adoption_event_ids WHERE tenant_id = $1", tenant
        ),
        "daily sessions": await conn.fetchval(
            "SELECT coalesce(sum(sessions), 0) FROM adoption_daily WHERE tenant_id = $1", tenant
        ),
        "monthly sessions": await conn.fetchval(
            "SELECT coalesce(sum(sessions), 0) FROM adoption_monthly WHERE tenant_id = $1", tenant
        ),
    }
    if len(set(counts.values())) != 1:
        ledger.problem("counters", f"counts disagree: {counts}")


async def read_plan(
    conn: Any,
    ledger: Ledger,
    flag_key: str,
    before: PlanMark,
    applied: Counter[str],
    sent: Counter[str],
) -> None:
    """Each audit row starts where the previous one ended; the last one is the plan's state;
    every write bumped the version once; acknowledged ≤ audited ≤ attempted, per action."""
    plan = await conn.fetchrow(
        "SELECT id, status, current_wave, current_step, version FROM rollout_plans"
        " WHERE province_id = $1 AND flag_key = $2",
        PROVINCE,
        flag_key,
    )
    rows = await conn.fetch(
        "SELECT action, before, after FROM rollout_audit WHERE plan_id = $1 ORDER BY at, id",
        plan["id"],
    )
    chain = [(r["action"], _json(r["before"]), _json(r["after"])) for r in rows]
    moves = [(a, b, c) for a, b, c in chain if _is_state(b) and _is_state(c)]
    for (_, _, previous), (action, start, _) in itertools.pairwise(moves):
        if _state(start) != _state(previous):
            ledger.problem(
                "audit", f"{action} starts at {start}, the row before ended at {previous}"
            )
    actual = {"status": plan["status"], "wave": plan["current_wave"], "step": plan["current_step"]}
    if moves and _state(moves[-1][2]) != actual:
        ledger.problem("audit", f"last audit row says {moves[-1][2]}, the plan is {actual}")
    after = await plan_mark(conn, flag_key)
    if after.version - before.version != after.audited - before.audited:
        ledger.problem(
            "audit",
            f"plan version {before.version} → {after.version} but"
            f" {after.audited - before.audited} audit rows were added",
        )
    audited = Counter(action.removeprefix("plan.") for action, _, _ in chain[before.audited :])
    for action in ("pause", "resume"):
        if not applied[action] <= audited[action] <= sent[action]:
            ledger.problem(
                "audit",
                f"{action}: {applied[action]} acknowledged, {audited[action]} audited,"
                f" {sent[action]} sent",
            )


async def read_flag(
    conn: Any, ledger: Ledger, key: str, acknowledged: list[int], unacknowledged: int = 0
) -> None:
    """The flag's version counts its audited writes; acknowledged versions are distinct and the
    last one is current, unless writes whose answer was lost came after it."""
    version = await conn.fetchval(
        "SELECT version FROM flags WHERE province_id = $1 AND key = $2", PROVINCE, key
    )
    writes = await conn.fetchval(
        "SELECT count(*) FROM rollout_audit WHERE province_id = $1 AND flag_key = $2"
        " AND action <> 'flag.create' AND plan_id IS NULL",
        PROVINCE,
        key,
    )
    if version != 1 + writes:
        ledger.problem("version", f"{key} is at version {version} after {writes} audited writes")
    if len(set(acknowledged)) != len(acknowledged):
        ledger.problem("version", f"{key}: one version acknowledged twice: {acknowledged}")
    if acknowledged and not 0 <= version - max(acknowledged) <= unacknowledged:
        ledger.problem(
            "version",
            f"{key}: last acknowledged {max(acknowledged)}, stored {version},"
            f" {unacknowledged} writes unanswered",
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _is_state(value: Any) -> bool:
    return isinstance(value, dict) and "status" in value


def _state(value: dict[str, Any]) -> dict[str, Any]:
    return {k: value.get(k) for k in ("status", "wave", "step")}
