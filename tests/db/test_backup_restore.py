"""The backup drill (docs/OPERATIONS.md, "Backup and restore"): a loaded database is dumped with
``pg_dump``, restored with ``pg_restore`` into a fresh one, and the copy is the same database: every
table's rows, the KPIs, the rollout audit chain, the row-level security policies and the app
role's grants; and the gateway, connected as the app role, serves from it.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from gateway.app import build_state, create_app
from gateway.auth import issue_development_token
from gateway.settings import Settings
from tenants.types import Role
from tests import databases, pgcluster
from tests.adoption.history import kpis, load_events
from tests.conftest import IN_CI
from tests.graphql import asgi_client
from tests.rollout.plan_world import make_plan, notices_for_branch_a
from tests.world import PROVINCE, YEN_MO, YM_MEMBER_A, load_world

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1
"""
SECURITY = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1
"""
POLICIES = """
SELECT tablename, policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2
"""
TABLE_GRANTS = """
SELECT table_name, privilege_type FROM information_schema.role_table_grants
WHERE grantee = $1 ORDER BY 1, 2
"""
FUNCTION_GRANTS = """
SELECT p.oid::regprocedure::text, p.prosecdef, has_function_privilege($1, p.oid, 'EXECUTE')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' ORDER BY 1
"""
DEFAULT_ACLS = "SELECT defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1"
TRIGGERS = """
SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
WHERE NOT tgisinternal ORDER BY 1, 2
"""
ADOPTION = """
query { adoption(tenant: "yen-mo", from: "2025-05-01", to: "2026-11-24", granularity: MONTH) {
  points { start members installs activatedMembers activeMembers uses } } }
"""
HOME = "query { me { fullName branch { name } } }"


def _count(table: str) -> str:
    return f'SELECT count(*) FROM "{table}"'  # noqa: S608 (a name from the catalogue)


async def _catalogue(db: databases.TestDatabase) -> dict[str, Any]:
    """What must survive a restore, read as the superuser (row-level security does not hide)."""
    conn = await databases.SHARED.connect(db.name)
    try:
        tables = [name for (name,) in await conn.fetch(TABLES)]
        counts = {t: await conn.fetchval(_count(t)) for t in tables}
        found: dict[str, Any] = {
            "rows": counts,
            "audit": [
                tuple(r) for r in await conn.fetch("SELECT * FROM rollout_audit ORDER BY at, id")
            ],
            "alembic": await conn.fetchval("SELECT version_num FROM alembic_version"),
        }
        for key, query in (
            ("security", SECURITY),
            ("policies", POLICIES),
            ("triggers", TRIGGERS),
            ("default_acls", DEFAULT_ACLS),
        ):
            found[key] = [tuple(r) for r in await conn.fetch(query)]
        for key, query in (("table_grants", TABLE_GRANTS), ("function_grants", FUNCTION_GRANTS)):
            found[key] = [tuple(r) for r in await conn.fetch(query, databases.APP_ROLE)]
        return found
    finally:
        await conn.close()


def _run(tool: Path, *args: str) -> None:
    done = subprocess.run([str(tool), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{tool.name} failed: {done.stderr}"


async def _restore(source: databases.TestDatabase, dump: Path) -> databases.TestDatabase:
    """The documented procedure: a custom-format dump, restored into a new, empty database."""
    bin_dir = pgcluster.binaries()
    assert bin_dir is not None
    server = databases.SHARED
    common = ["-h", server.host, "-p", str(server.port), "-U", server.superuser]
    await asyncio.to_thread(
        _run, bin_dir / "pg_dump", *common, "--format=custom", f"--file={dump}", source.name
    )
    name = f"pilotgraph_test_restore_{uuid.uuid4().hex[:8]}"
    conn = await server.connect()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await asyncio.to_thread(
        _run,
        bin_dir / "pg_restore",
        *common,
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={name}",
        str(dump),
    )
    return databases.TestDatabase(
        "postgresql", server.url(name, databases.APP_ROLE), server.url(name), name
    )


async def _load(db: databases.TestDatabase) -> None:
    """The world, 19 months of events with their rollups, a rollout plan and its audit."""
    engine = make_engine(db.app_url)
    sessions = make_sessionmaker(engine)
    try:
        await load_world(sessions)
        await load_events(sessions)
        async with scope_session(sessions(), None) as session:
            await make_plan(session)
            await notices_for_branch_a(session)
            await session.commit()
    finally:
        await engine.dispose()


async def _read_kpis(db: databases.TestDatabase) -> dict[str, Any]:
    engine = make_engine(db.app_url)
    try:
        return await kpis(make_sessionmaker(engine))
    finally:
        await engine.dispose()


async def _served(db: databases.TestDatabase) -> list[dict[str, Any]]:
    """A province admin's adoption and a member's home, through the gateway as the app role."""
    settings = Settings(database_url=SecretStr(db.app_url))
    state = build_state(settings)
    try:
        await state.registry.reload(state.sessionmaker)
        app = create_app(settings, state=state)
        admin = issue_development_token(
            settings, subject="admin", roles=[Role.PROVINCE_ADMIN], tenant=None, province=PROVINCE
        )
        member = issue_development_token(
            settings, subject=str(YM_MEMBER_A), roles=[Role.MEMBER], tenant=YEN_MO
        )
        answers = []
        for token, query in ((admin, ADOPTION), (member, HOME)):
            async with asgi_client(app, token) as client:
                response = await client.post("/graphql", json={"query": query})
            assert response.status_code == 200, response.text
            answers.append(response.json())
        return answers
    finally:
        await state.engine.dispose()


@pytest.fixture
async def source() -> AsyncIterator[databases.TestDatabase]:
    reason = await databases.postgres_reachable()
    if reason is None and pgcluster.binaries() is None:
        reason = "pg_dump/pg_restore not installed (PILOTGRAPH_TEST_PG_BIN)"
    if reason is not None:
        if IN_CI:
            pytest.fail(f"the backup drill needs PostgreSQL and its tools in CI: {reason}")
        pytest.skip(reason)
    db = await databases.create_postgres()
    yield db
    await databases.drop_postgres(db)


async def test_a_restored_dump_is_the_same_database_and_the_gateway_serves_it(
    source, tmp_path
) -> None:
    # given a loaded database, and everything read from it
    await _load(source)
    catalogue, figures, served = (
        await _catalogue(source),
        await _read_kpis(source),
        await _served(source),
    )
    assert catalogue["rows"]["adoption_events_2025_05"] > 0
    assert catalogue["audit"]
    assert catalogue["policies"]
    assert catalogue["table_grants"]
    assert all(not any(a.get("errors", ())) for a in served), served
    # when: dumped, and restored into a fresh database
    restored = await _restore(source, tmp_path / "pilotgraph.dump")
    try:
        # then: the same rows, audit chain, policies, grants and KPIs; served the same
        assert await _catalogue(restored) == catalogue
        assert await _read_kpis(restored) == figures
        assert await _served(restored) == served
    finally:
        await databases.drop_postgres(restored)
