"""Migration 0006 on a database that has rollout rows: each row gets its province."""

# ruff: noqa: S608  (the SQL is built from this module's constants only)
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from db.engine import make_engine
from gateway import migrate
from tests import databases
from tests.conftest import IN_CI

PLAN, APPROVAL, STEP, NOTICE = (uuid.UUID(int=n).hex for n in (61, 62, 63, 64))
AT = "'2026-11-25 03:00:00+00:00'"
ROWS_AT_0005 = [
    "INSERT INTO provinces (id, name, timezone) VALUES "
    "('ha-nam', 'Hà Nam', 'Asia/Ho_Chi_Minh'), ('ninh-binh', 'Ninh Bình', 'Asia/Ho_Chi_Minh')",
    "INSERT INTO tenants (id, province_id, name, kind) VALUES "
    "('yen-mo', 'ninh-binh', 'Yên Mô', 'district'), "
    "('duy-tien', 'ha-nam', 'Duy Tiên', 'district')",
    "INSERT INTO flags (key, description, kind, variants, default_variant, rollout_variant, "
    "state, version, updated_at) VALUES ('handbook', '', 'boolean', "
    f"'{{\"on\": true, \"off\": false}}', 'off', 'on', 'active', 3, {AT}), "
    f"('handbook.notices', '', 'boolean', '{{\"on\": true, \"off\": false}}', 'on', 'on', "
    f"'active', 1, {AT})",
    "INSERT INTO flag_rules (flag_key, position, conditions, variant) VALUES "
    "('handbook', 0, '{\"role\": [\"auditor\"]}', 'on')",
    "INSERT INTO flag_overrides (tenant_id, flag_key, variant, reason, updated_by, updated_at) "
    f"VALUES ('duy-tien', 'handbook', 'on', 'early', 'admin', {AT})",
    "INSERT INTO flag_tenant_rollouts (tenant_id, flag_key, basis_points, wave, since) "
    f"VALUES ('yen-mo', 'handbook', 10000, 0, {AT})",
    "INSERT INTO rollout_plans (id, flag_key, status, current_wave, current_step, version, "
    f"updated_at) VALUES ('{PLAN}', 'handbook', 'running', 0, 0, 2, {AT})",
    "INSERT INTO rollout_waves (plan_id, position, name, ramp, gate_criteria, "
    f"gate_sustain_days) VALUES ('{PLAN}', 0, 'pilot', '[10000]', '[]', 0)",
    "INSERT INTO rollout_wave_tenants (tenant_id, plan_id, position) "
    f"VALUES ('yen-mo', '{PLAN}', 0)",
    "INSERT INTO rollout_approvals (id, plan_id, action, request, requested_by, requested_at, "
    f"reason, status) VALUES ('{APPROVAL}', '{PLAN}', 'advance', '{{}}', 'admin', {AT}, '', "
    "'pending')",
    "INSERT INTO rollout_scheduled_steps (id, plan_id, action, run_at, requested_by, reason, "
    f"status, outcome) VALUES ('{STEP}', '{PLAN}', 'pause', {AT}, 'admin', '', 'pending', '')",
    "INSERT INTO rollout_audit (id, at, actor, action, flag_key, plan_id, tenant_id, reason) "
    f"VALUES ('{uuid.UUID(int=71).hex}', {AT}, 'admin', 'flag.override', 'handbook', NULL, "
    f"'duy-tien', ''), ('{uuid.UUID(int=72).hex}', {AT}, 'admin', 'plan.start', 'handbook', "
    f"'{PLAN}', NULL, ''), ('{uuid.UUID(int=73).hex}', {AT}, 'admin', 'flag.update', "
    "'handbook.notices', NULL, NULL, '')",
    "INSERT INTO rollout_notices (id, province_id, plan_id, flag_key, kind, message, figures, "
    f"created_at) VALUES ('{NOTICE}', 'ninh-binh', '{PLAN}', 'handbook', 'guardrail_pause', "
    f"'fell', '{{}}', {AT})",
]
PROVINCE_OF = {
    "flags": "SELECT province_id, key FROM flags",
    "flag_rules": "SELECT province_id, flag_key FROM flag_rules",
    "flag_overrides": "SELECT province_id, tenant_id FROM flag_overrides",
    "flag_tenant_rollouts": "SELECT province_id, tenant_id FROM flag_tenant_rollouts",
    "rollout_plans": "SELECT province_id, flag_key FROM rollout_plans",
    "rollout_waves": "SELECT province_id, name FROM rollout_waves",
    "rollout_wave_tenants": "SELECT province_id, tenant_id FROM rollout_wave_tenants",
    "rollout_approvals": "SELECT province_id, action FROM rollout_approvals",
    "rollout_scheduled_steps": "SELECT province_id, action FROM rollout_scheduled_steps",
    "rollout_audit": "SELECT province_id, action FROM rollout_audit",
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0005(request, tmp_path) -> AsyncIterator[databases.TestDatabase]:
    """A database migrated to 0005 only."""
    if request.param == "sqlite":
        yield await databases.create_sqlite(tmp_path, "0005")
        return
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(reason)
    db = await databases.create_postgres("0005")
    yield db
    await databases.drop_postgres(db)


async def _run(url: str, statements: list[str]) -> list[list[tuple[object, ...]]]:
    engine = make_engine(url)
    found = []
    try:
        async with engine.begin() as conn:
            for statement in statements:
                result = await conn.execute(text(statement))
                found.append([tuple(row) for row in result] if result.returns_rows else [])
        return found
    finally:
        await engine.dispose()


async def test_upgrade_gives_every_rollout_row_its_province(at_0005):
    # given: rollout rows written before provinces owned them
    await _run(at_0005.admin_url, ROWS_AT_0005)
    # when
    await asyncio.to_thread(migrate.upgrade, at_0005.admin_url)
    found = await _run(at_0005.admin_url, [f"{q} ORDER BY 1, 2" for q in PROVINCE_OF.values()])
    # then: the plan's province for its rows, the tenant's for overrides and rollouts, a copy
    # of the flag (and its rules) where a tenant of another province had an override; a flag
    # nothing ties to a province goes to the first province by id (here ha-nam)
    by_table = dict(zip(PROVINCE_OF, found, strict=True))
    nb = "ninh-binh"
    assert by_table["flags"] == [
        ("ha-nam", "handbook"),
        ("ha-nam", "handbook.notices"),
        (nb, "handbook"),
    ]
    assert by_table["flag_rules"] == [("ha-nam", "handbook"), (nb, "handbook")]
    assert by_table["flag_overrides"] == [("ha-nam", "duy-tien")]
    assert by_table["flag_tenant_rollouts"] == [(nb, "yen-mo")]
    assert by_table["rollout_plans"] == [(nb, "handbook")]
    assert by_table["rollout_waves"] == [(nb, "pilot")]
    assert by_table["rollout_wave_tenants"] == [(nb, "yen-mo")]
    assert by_table["rollout_approvals"] == [(nb, "advance")]
    assert by_table["rollout_scheduled_steps"] == [(nb, "pause")]
    assert by_table["rollout_audit"] == [
        ("ha-nam", "flag.override"),
        ("ha-nam", "flag.update"),
        (nb, "plan.start"),
    ]


async def test_public_may_not_run_the_partition_function(at_0005):
    # given
    if at_0005.backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no functions")
    # when
    await asyncio.to_thread(migrate.upgrade, at_0005.admin_url)
    [[(public,)]] = await _run(
        at_0005.admin_url,
        [
            "SELECT has_function_privilege('public', "
            "'adoption_ensure_partitions(date, date)', 'EXECUTE')"
        ],
    )
    # then
    assert public is False
