"""A rollup rebuild goes month by month, so ingest keeps going (SQLite: it releases the write
lock; PostgreSQL: a month a batch got into is recomputed).

A year of events is rebuilt while batches are ingested, each on its own connection whose busy
timeout is far shorter than the whole rebuild (a one-shot rebuild holds the lock throughout and
the batches fail "database is locked"). Every batch succeeds, and the rollups afterwards equal a
one-shot rebuild of every stored event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from adoption import rollups, service
from adoption.calendar import zone
from adoption.models import ROLLUP_TABLES, AdoptionEvent, AdoptionEventId
from adoption.partitions import ensure_partitions
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from tests import databases
from tests.adoption.conftest import INSTALL_KEY, ev
from tests.conftest import IN_CI
from tests.world import YEN_MO, YM_MEMBER_A, load_world

TZ = "Asia/Ho_Chi_Minh"
NOW = dt.datetime(2025, 12, 20, tzinfo=dt.UTC)
MEMBERS = [uuid.UUID(int=0xABC0000 + n) for n in range(400)]
PER_MONTH = 5_000
INGEST_BUSY_MS = 1_500  # far below the whole rebuild's time, well above one month's


def _history() -> list[dict[str, Any]]:
    rows, n = [], 0
    for month in range(1, 13):
        for i in range(PER_MONTH):
            n += 1
            at = dt.datetime(2025, month, 1 + i % 28, i % 24, tzinfo=dt.UTC)
            rows.append(
                {
                    "tenant_id": YEN_MO,
                    "occurred_at": at,
                    "event_id": uuid.UUID(int=n),
                    "type": "login" if i % 3 == 0 else "session_started",
                    "member_id": MEMBERS[(i * 7 + month) % len(MEMBERS)],
                    "device_id": f"d-{i % 500}",
                    "received_at": at,
                }
            )
    return rows


async def _snapshot(session: AsyncSession) -> dict[str, list[Any]]:
    result = {}
    for model in ROLLUP_TABLES:
        columns = list(model.__table__.columns)
        rows = await session.execute(
            select(*columns).where(model.tenant_id == YEN_MO).order_by(*columns)
        )
        result[model.__tablename__] = [tuple(r) for r in rows]
    return result


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield await databases.create_sqlite(tmp_path)
        return
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(reason)
    db = await databases.create_postgres()
    yield db
    await databases.drop_postgres(db)


async def test_ingest_succeeds_during_a_rebuild_and_counts_once(database: Any) -> None:
    # given a year of Yen Mo's events, with their rollups
    db = database
    sqlite = db.backend == "sqlite"
    engine = make_engine(db.app_url)
    sessions = make_sessionmaker(engine)
    await load_world(sessions)
    history = _history()
    async with scope_session(sessions(), YEN_MO) as session:
        await ensure_partitions(session, first=history[0]["occurred_at"], last=NOW)
        await session.execute(insert(AdoptionEvent), history)
        await session.execute(
            insert(AdoptionEventId),
            [{"tenant_id": YEN_MO, "event_id": r["event_id"]} for r in history],
        )
        await rollups.rebuild(session, tenant_id=YEN_MO, tz=zone(TZ))
        await session.commit()

    async def ingest(day: int) -> float:
        began = time.monotonic()
        async with scope_session(sessions(), YEN_MO) as session:
            if sqlite:
                await session.execute(text(f"PRAGMA busy_timeout={INGEST_BUSY_MS}"))
            result = await service.ingest(
                session=session,
                tenant_id=YEN_MO,
                timezone=TZ,
                member_id=YM_MEMBER_A,
                events=[ev("login", f"2025-{10 + day % 2}-{1 + day % 28:02d}T03:00:00Z")],
                now=NOW,
                install_key=INSTALL_KEY,
            )
            if sqlite:
                await session.execute(text("PRAGMA busy_timeout=5000"))
            await session.commit()
        assert result.stored == 1
        return time.monotonic() - began

    async def keep_ingesting(done: asyncio.Event) -> list[float]:
        waits, day = [], 0
        while not done.is_set():
            waits.append(await ingest(day))
            day += 1
            await asyncio.sleep(0.05)
        return waits

    # when: the rebuild runs, batches are ingested throughout
    done = asyncio.Event()
    ingesting = asyncio.create_task(keep_ingesting(done))
    began = time.monotonic()
    read = await rollups.rebuild_in_chunks(
        lambda: scope_session(sessions(), YEN_MO), tenant_id=YEN_MO, tz=zone(TZ)
    )
    rebuild_s = time.monotonic() - began
    done.set()
    waits = await ingesting

    # then: every batch stored while the rebuild held the database far longer than they waited
    async with scope_session(sessions(), YEN_MO) as session:
        chunked = await _snapshot(session)
        stored = int(await session.scalar(text("SELECT count(*) FROM adoption_events")) or 0)
        await rollups.rebuild(session, tenant_id=YEN_MO, tz=zone(TZ))
        one_shot = await _snapshot(session)
    await engine.dispose()
    assert len(waits) >= 3
    if sqlite:
        assert rebuild_s > 2 * INGEST_BUSY_MS / 1000, "the rebuild is too quick to prove anything"
    assert read >= len(history)
    assert stored == len(history) + len(waits)
    assert chunked == one_shot
