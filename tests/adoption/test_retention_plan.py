"""PostgreSQL: retention's join reads a few member-months per activation, statistics or not.

Right after a bulk load nothing has analyzed the tables (autovacuum is off on the test server,
and lags in production): the planner then picks a nested loop, which over the primary key
(tenant, month, member) read every member-month of the tenant for each activation (seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.dialects import postgresql

from adoption.retention import active_query
from tests import databases
from tests.conftest import IN_CI

TENANTS = [f"t-{n}" for n in range(5)]
MEMBERS_PER_TENANT = 3_000
FIRST, CURRENT = dt.date(2025, 1, 1), dt.date(2025, 12, 1)


@pytest.fixture
async def loaded() -> AsyncIterator[asyncpg.Connection]:
    """Two years of activations and member-months of five tenants, copied in, not analyzed."""
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(reason)
    db = await databases.create_postgres()
    conn = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database=db.name)
    await conn.execute("INSERT INTO provinces VALUES ('p', 'P', 'Asia/Ho_Chi_Minh')")
    activations, months = [], []
    rnd = random.Random(13)
    for tenant in TENANTS:
        await conn.execute(
            "INSERT INTO tenants (id, province_id, name, kind) VALUES ($1, 'p', $1, 'district')",
            tenant,
        )
        for _ in range(MEMBERS_PER_TENANT):
            member, start = uuid.UUID(int=rnd.getrandbits(128)), rnd.randrange(24)
            activations.append((tenant, member, dt.date(2024 + start // 12, start % 12 + 1, 3)))
            months += [
                (tenant, dt.date(2024 + k // 12, k % 12 + 1, 1), member) for k in range(start, 24)
            ]
    await conn.copy_records_to_table(
        "adoption_activations",
        records=activations,
        columns=["tenant_id", "member_id", "activated_on"],
    )
    await conn.copy_records_to_table(
        "adoption_member_months", records=months, columns=["tenant_id", "month", "member_id"]
    )
    yield conn
    await conn.close()
    await databases.drop_postgres(db)


def _nodes(
    plan: dict[str, Any], parent: str | None = None
) -> Iterator[tuple[dict[str, Any], str | None]]:
    yield plan, parent
    for child in plan.get("Plans", []):
        yield from _nodes(child, plan["Node Type"])


@pytest.mark.parametrize("analyzed", [False, True], ids=["no-statistics", "analyzed"])
@pytest.mark.parametrize("tenants", [TENANTS[2:3], TENANTS[:3]], ids=["tenant", "tenants"])
async def test_retention_reads_a_few_member_months_per_activation(loaded, analyzed, tenants):
    # given
    if analyzed:
        await loaded.execute("ANALYZE adoption_activations, adoption_member_months")
    query = active_query(tenants, FIRST, CURRENT).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    # when
    [plan] = json.loads(await loaded.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}"))
    # then: a nested loop looks each member up; one tenant's read scans no other's rows
    scans = [
        (node, parent)
        for node, parent in _nodes(plan["Plan"])
        if node.get("Relation Name") == "adoption_member_months"
    ]
    assert scans, plan
    for node, parent in scans:
        if parent == "Nested Loop":
            assert node["Index Name"] == "ix_adoption_member_months_member", plan
        if len(tenants) == 1:
            assert node["Node Type"] != "Seq Scan", plan
    assert plan["Execution Time"] < 2_000, plan  # a nested loop over the primary key: 5-10 s
