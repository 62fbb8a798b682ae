"""Retention of raw events (``adoption.expiry``): whole months older than the age go, on
PostgreSQL by dropping their partitions and on SQLite in batches; every KPI of every past
period reads the same before and after, and a rollup rebuild afterwards keeps them too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from adoption import expiry, rollups
from adoption.calendar import zone
from adoption.errors import InvalidRetention
from adoption.models import AdoptionEvent
from db.clock import utc_now
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from gateway.cli import app
from gateway.settings import get_settings
from tests import databases
from tests.adoption.history import CUTOFF, TENANTS, TZ, kpis, load_events
from tests.conftest import IN_CI
from tests.world import KIM_SON, NOW, load_world


async def _events_by_tenant(
    sessions: Callable[[], AsyncSession], cutoff: dt.datetime = CUTOFF
) -> dict[str, tuple[int, int]]:
    """Per tenant: (events before ``cutoff``, events from it on)."""
    found = {}
    for tenant in TENANTS:
        async with scope_session(sessions(), tenant) as session:
            old = select(func.count()).where(
                AdoptionEvent.tenant_id == tenant, AdoptionEvent.occurred_at < cutoff
            )
            new = select(func.count()).where(
                AdoptionEvent.tenant_id == tenant, AdoptionEvent.occurred_at >= cutoff
            )
            found[tenant] = (
                int(await session.scalar(old) or 0),
                int(await session.scalar(new) or 0),
            )
    return found


async def _partitions(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'adoption_events'::regclass ORDER BY 1"
            )
        )
        return [name for (name,) in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
async def loaded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[databases.TestDatabase, dict[str, int]]]:
    """A fresh database (PostgreSQL: as the app role) with 19 months of two tenants' events."""
    if request.param == "sqlite":
        db = await databases.create_sqlite(tmp_path)
    else:
        reason = await databases.postgres_reachable()
        if reason is not None:
            if IN_CI:
                pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
            pytest.skip(reason)
        db = await databases.create_postgres()
    engine = make_engine(db.app_url)
    sessions = make_sessionmaker(engine)
    try:
        await load_world(sessions)
        old = await load_events(sessions)
    finally:
        await engine.dispose()
    yield db, old
    if db.backend == "postgresql":
        await databases.drop_postgres(db)


async def test_retention_removes_old_months_and_every_kpi_stays(loaded) -> None:
    # given 19 months of events and their rollups, and every KPI read from them
    db, old = loaded
    engine = make_engine(db.app_url)
    sessions = make_sessionmaker(engine)
    before = await kpis(sessions)
    events_before = await _events_by_tenant(sessions)
    assert all(events_before[t][0] == old[t] > 0 for t in TENANTS)

    # when: a dry run, then the real one (13 months, the default)
    dry = await expiry.expire(
        sessions=sessions, tenant_ids=TENANTS, now=NOW, months=13, dry_run=True
    )
    after_dry = await _events_by_tenant(sessions)
    outcome = await expiry.expire(sessions=sessions, tenant_ids=TENANTS, now=NOW, months=13)

    # then: the dry run reported and removed nothing; the run removed exactly the old months
    assert dry.cutoff == outcome.cutoff == CUTOFF
    assert dry.events == outcome.events == old
    assert after_dry == events_before
    assert await _events_by_tenant(sessions) == {t: (0, events_before[t][1]) for t in TENANTS}
    assert await kpis(sessions) == before
    if db.backend == "postgresql":
        expected = [f"adoption_events_2025_{m:02d}" for m in range(5, 10)]
        assert list(outcome.partitions) == list(dry.partitions) == expected
        assert not set(expected) & set(await _partitions(engine))
    async with sessions() as session:
        assert await expiry.horizon(session=session) == CUTOFF

    # and when: the rollups are rebuilt from the events left, and retention runs again
    for tenant in TENANTS:
        await rollups.rebuild_in_chunks(
            lambda t=tenant: scope_session(sessions(), t), tenant_id=tenant, tz=zone(TZ)
        )
    again = await expiry.expire(sessions=sessions, tenant_ids=TENANTS, now=NOW, months=13)

    # then: every past KPI is still the same, and nothing is left to remove
    assert await kpis(sessions) == before
    assert again.events == {}
    assert again.partitions == ()
    await engine.dispose()


async def test_another_replica_removing_now_is_left_to_it(database, app_engine) -> None:
    # given another process holds retention's lock (PostgreSQL: one replica at a time)
    if database.backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite runs in one process")
    sessions = make_sessionmaker(app_engine)
    async with app_engine.connect() as holder:
        await holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": expiry.LOCK_KEY})
        # when
        outcome = await expiry.expire(sessions=sessions, tenant_ids=TENANTS, now=NOW, months=13)
        await holder.rollback()
    # then
    assert outcome.skipped
    assert outcome.events == {}
    assert outcome.partitions == ()


@given(
    months=st.one_of(
        st.integers(max_value=expiry.MIN_MONTHS - 1),
        st.integers(min_value=expiry.MAX_MONTHS + 1),
        st.floats(allow_nan=True),
        st.booleans(),
        st.text(max_size=5),
        st.none(),
    )
)
def test_an_age_outside_the_bounds_is_refused_with_a_code(months: Any) -> None:
    # when / then
    with pytest.raises(InvalidRetention) as refused:
        expiry.cutoff(now=NOW, months=months)
    assert refused.value.code == "INVALID_RETENTION"
    assert refused.value.field == "months"
    assert refused.value.message == (
        f"The retention age is a whole number of months from 4 to 120; got {months!r}."
    )


@pytest.mark.parametrize(("months", "first_kept"), [(4, "2026-07-01"), (13, "2025-10-01")])
def test_the_cutoff_is_a_utc_month_start_more_than_the_age_ago(months, first_kept) -> None:
    assert expiry.cutoff(now=NOW, months=months).isoformat() == f"{first_kept}T00:00:00+00:00"


runner = CliRunner()


@pytest.fixture
def cli_database(monkeypatch, tmp_path) -> databases.TestDatabase:
    """A SQLite database with the 19 months of events, as ``PILOTGRAPH_DATABASE_URL``."""

    async def make() -> databases.TestDatabase:
        db = await databases.create_sqlite(tmp_path)
        engine = make_engine(db.app_url)
        await load_world(make_sessionmaker(engine))
        await load_events(make_sessionmaker(engine))
        await engine.dispose()
        return db

    db = asyncio.run(make())
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", db.app_url)
    monkeypatch.delenv("PILOTGRAPH_EVENT_RETENTION_MONTHS", raising=False)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def _stored(db: databases.TestDatabase, months: int = 13) -> dict[str, tuple[int, int]]:
    """Per tenant: events older than ``months`` by the wall clock (what the CLI uses), and newer."""
    cutoff = expiry.cutoff(now=utc_now(), months=months)

    async def count() -> dict[str, tuple[int, int]]:
        engine = make_engine(db.app_url)
        try:
            return await _events_by_tenant(make_sessionmaker(engine), cutoff)
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_cli_dry_run_prints_what_it_would_remove_and_removes_nothing(cli_database) -> None:
    # given
    stored = _stored(cli_database, months=15)
    cutoff = expiry.cutoff(now=utc_now(), months=15).date()
    # when
    result = runner.invoke(app, ["adoption", "retention", "--dry-run", "--months", "15"])
    # then
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    old = sum(old for old, _ in stored.values())
    assert lines[0] == f"would remove {old} events before {cutoff} (UTC); rollups and KPIs stay"
    assert any(line.strip().startswith(f"{KIM_SON}: ") for line in lines[1:])
    assert _stored(cli_database, months=15) == stored


def test_cli_removes_with_the_configured_age(cli_database, monkeypatch) -> None:
    # given
    monkeypatch.setenv("PILOTGRAPH_EVENT_RETENTION_MONTHS", "13")
    stored = _stored(cli_database)
    # when
    result = runner.invoke(app, ["adoption", "retention"])
    # then
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"removed {sum(old for old, _ in stored.values())} events")
    assert _stored(cli_database) == {t: (0, new) for t, (_, new) in stored.items()}


@pytest.mark.parametrize("months", ["3", "121", "-1"])
def test_cli_refuses_a_bad_age_with_a_code_and_removes_nothing(cli_database, months) -> None:
    # given
    stored = _stored(cli_database)
    # when
    result = runner.invoke(app, ["adoption", "retention", "--months", months])
    # then
    assert result.exit_code == 1
    assert "INVALID_RETENTION: The retention age is a whole number of months" in result.output
    assert _stored(cli_database) == stored


@pytest.mark.parametrize("value", ["3", "121", "thirteen", "13.5"])
def test_a_bad_retention_setting_stops_the_cli_naming_it(cli_database, monkeypatch, value) -> None:
    # given
    monkeypatch.setenv("PILOTGRAPH_EVENT_RETENTION_MONTHS", value)
    # when
    result = runner.invoke(app, ["adoption", "retention", "--dry-run"])
    # then
    assert result.exit_code == 2
    assert "PILOTGRAPH_EVENT_RETENTION_MONTHS" in result.output
