"""Adoption fixtures: sessions over the test's transaction, and events built by hand."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from adoption import install_tokens, service
from adoption.install_tokens import InstallTokenKey
from adoption.models import (
    AdoptionDaily,
    AdoptionEvent,
    AdoptionEventId,
    AdoptionMemberDay,
    AdoptionMemberMonth,
    AdoptionMonthly,
)
from db.sessions import make_sessionmaker, scope_session
from gateway.state import GatewayState
from tests.world import KIM_SON, KS_MEMBER, NOW, YEN_MO, YM_MEMBER_A, YM_MEMBER_B

Sessions = Callable[[str | None], AsyncSession]
_ids = itertools.count(1)
# Service calls check install tokens with this key. Tokens from install_token() are issued on
# ISSUED and last ten years, so they are fresh at every test's clock (expiry has its own tests).
INSTALL_KEY = InstallTokenKey(b"tests: an install-token key of 32+ bytes", dt.timedelta(days=3650))
ISSUED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def event_id() -> str:
    return str(uuid.UUID(int=(0xE << 124) + next(_ids)))


def ev(
    kind: str, at: str, *, id: str | None = None, device: str = "phone-1", **extra: Any
) -> dict[str, Any]:
    """An event as the app sends it; ``at`` is ISO 8601 with an offset."""
    body = {"id": id or event_id(), "type": kind, "timestamp": at, "deviceId": device}
    if kind == "screen_viewed":
        body.setdefault("screen", "meetings")
    body.update(extra)
    return body


def install_token(device: str = "phone-1", tenant: str = YEN_MO) -> str:
    """A token :data:`INSTALL_KEY` issued for ``device`` on ``tenant``."""
    return install_tokens.issue(key=INSTALL_KEY, tenant_id=tenant, device_id=device, now=ISSUED)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@pytest.fixture
async def sessions(connection: AsyncConnection) -> AsyncIterator[Sessions]:
    """``sessions('yen-mo')`` → a session for that tenant over the test's transaction."""
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    opened: list[AsyncSession] = []

    def make(tenant: str | None) -> AsyncSession:
        session = scope_session(maker(), tenant)
        opened.append(session)
        return session

    yield make
    for session in opened:
        await session.close()


async def remove_committed(engine: AsyncEngine, first: dt.date, end: dt.date) -> None:
    """Delete what a test committed for Yen Mo outside its transaction: the events, and the
    rollup rows from ``first`` to before ``end`` (a month no other test writes in)."""
    async with scope_session(make_sessionmaker(engine)(), YEN_MO) as session:
        for model in (AdoptionEventId, AdoptionEvent):
            await session.execute(delete(model).where(model.tenant_id == YEN_MO))
        for model, column in (
            (AdoptionDaily, AdoptionDaily.day),
            (AdoptionMonthly, AdoptionMonthly.month),
            (AdoptionMemberDay, AdoptionMemberDay.day),
            (AdoptionMemberMonth, AdoptionMemberMonth.month),
        ):
            await session.execute(
                delete(model).where(model.tenant_id == YEN_MO, column >= first, column < end)
            )
        await session.commit()


DAY = "2026-11-24T02:00:00Z"


@pytest.fixture
async def activity(gateway: GatewayState) -> None:
    """Yen Mo: A logs in and starts 2 sessions, B starts 1; Kim Son: one member logs in."""
    plan = [
        (
            YEN_MO,
            YM_MEMBER_A,
            [ev("login", DAY), ev("session_started", DAY), ev("session_started", DAY)],
        ),
        (YEN_MO, YM_MEMBER_B, [ev("session_started", DAY)]),
        (KIM_SON, KS_MEMBER, [ev("login", DAY, device="ks-phone")]),
    ]
    for tenant, member, events in plan:
        async with scope_session(gateway.sessionmaker(), tenant) as session:
            await service.ingest(
                session=session,
                tenant_id=tenant,
                timezone="Asia/Ho_Chi_Minh",
                member_id=member,
                events=events,
                now=NOW,
                install_key=INSTALL_KEY,
            )
            await session.commit()
