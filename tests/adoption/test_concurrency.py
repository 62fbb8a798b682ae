"""Idempotency under concurrent retries: separate connections, each its own transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adoption import service
from adoption.models import AdoptionDaily, AdoptionMonthly
from db.sessions import make_sessionmaker, scope_session
from tests.adoption.conftest import INSTALL_KEY, ev, remove_committed
from tests.world import YEN_MO, YM_MEMBER_A

# A month no other test writes in; committed rows are removed afterwards.
NOW = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
MARCH = dt.date(2025, 3, 1)


@pytest.fixture
async def committed(app_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    yield app_engine
    await remove_committed(app_engine, MARCH, dt.date(2025, 4, 1))


async def test_concurrent_retries_store_and_count_each_event_once(committed: AsyncEngine) -> None:
    # given a batch of five sessions on two days, sent by five connections at once
    batch = [
        ev("session_started", f"2025-03-1{d}T02:0{i}:00Z", id=str(uuid.UUID(int=900 + 10 * d + i)))
        for d in (1, 2)
        for i in range(3)
    ][:5]
    sessions = make_sessionmaker(committed)

    async def send() -> int:
        async with scope_session(sessions(), YEN_MO) as session:
            result = await service.ingest(
                session=session,
                tenant_id=YEN_MO,
                timezone="Asia/Ho_Chi_Minh",
                member_id=YM_MEMBER_A,
                events=batch,
                now=NOW,
                install_key=INSTALL_KEY,
            )
            await session.commit()
        return result.stored

    # when
    stored = await asyncio.gather(*[send() for _ in range(5)])

    # then one transaction stored the five, the others none; rollups count each once
    assert sorted(stored) == [0, 0, 0, 0, 5]
    async with scope_session(sessions(), YEN_MO) as session:
        monthly = await session.get(AdoptionMonthly, (YEN_MO, MARCH))
        daily = (
            await session.execute(
                select(AdoptionDaily.day, AdoptionDaily.sessions, AdoptionDaily.active_members)
                .where(AdoptionDaily.tenant_id == YEN_MO, AdoptionDaily.day >= MARCH)
                .order_by(AdoptionDaily.day)
            )
        ).all()
    assert monthly is not None
    assert (monthly.sessions, monthly.active_members) == (5, 1)
    assert [tuple(r) for r in daily] == [(dt.date(2025, 3, 11), 3, 1), (dt.date(2025, 3, 12), 2, 1)]
