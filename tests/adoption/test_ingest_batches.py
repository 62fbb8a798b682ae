"""Whole batches through ``service.ingest``: local days, weeks and months across boundaries,
repeated ids, mixed batches and overlapping concurrent batches.

On PostgreSQL this is the set-based path (:mod:`adoption.bulk`); its rollups are also
checked against :func:`rollups.rebuild`, which computes them in Python.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from adoption import rollups, service
from adoption.calendar import zone
from adoption.models import (
    AdoptionActivation,
    AdoptionDaily,
    AdoptionEvent,
    AdoptionInstall,
    AdoptionMemberDay,
    AdoptionMemberMonth,
    AdoptionMonthly,
)
from db.sessions import make_sessionmaker, scope_session
from tests import databases
from tests.adoption.conftest import (
    INSTALL_KEY,
    Sessions,
    ev,
    install_token,
    remove_committed,
    utc,
)
from tests.world import YEN_MO, YM_MEMBER_A

TZ = "Asia/Ho_Chi_Minh"  # UTC+7
NOW = utc("2026-02-10T00:00:00+00:00")
D = dt.date


async def _ingest(
    sessions: Sessions, events: list[Any], member: uuid.UUID | None = YM_MEMBER_A
) -> service.IngestResult:
    async with sessions(YEN_MO) as session:
        result = await service.ingest(
            session=session,
            tenant_id=YEN_MO,
            timezone=TZ,
            member_id=member,
            events=events,
            now=NOW,
            install_key=INSTALL_KEY,
        )
        await session.commit()
    return result


async def _rollups(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Yen Mo's rollup rows, without the tenant column, in key order."""
    plan: dict[str, tuple[Any, ...]] = {
        "member_days": (AdoptionMemberDay.day, AdoptionMemberDay.week),
        "member_months": (AdoptionMemberMonth.month,),
        "daily": (AdoptionDaily.day, AdoptionDaily.active_members, AdoptionDaily.sessions),
        "monthly": (
            AdoptionMonthly.month,
            AdoptionMonthly.active_members,
            AdoptionMonthly.sessions,
        ),
        "activations": (AdoptionActivation.member_id, AdoptionActivation.activated_on),
        "installs": (AdoptionInstall.device_id, AdoptionInstall.installed_on),
    }
    snapshot = {}
    for name, columns in plan.items():
        table = columns[0].class_
        query = select(*columns).where(table.tenant_id == YEN_MO).order_by(*columns)
        snapshot[name] = [tuple(row) for row in await session.execute(query)]
    return snapshot


async def test_a_batch_across_local_days_weeks_and_months_counts_each_where_it_falls(
    database: databases.TestDatabase, sessions: Sessions
) -> None:
    # given one batch: Saturday 31 January 23:59:59 local is still January; a minute later
    # (17:00 UTC, still January in UTC) it is Sunday 1 February; Monday 2 February starts a week
    await _ingest(
        sessions,
        [
            ev("login", "2026-01-31T16:59:59Z"),
            ev("session_started", "2026-01-31T17:00:00Z"),
            ev("session_started", "2026-02-01T17:30:00Z"),
            ev("login", "2026-02-01T01:00:00Z"),
            ev("app_installed", "2026-02-01T16:00:00Z", device="phone-1"),
            ev("app_installed", "2026-01-31T16:00:00Z", device="phone-1"),
            ev("app_installed", "2026-02-01T18:00:00Z", device="phone-2"),
            ev("screen_viewed", "2026-02-03T03:00:00Z"),
        ],
    )
    # and a later batch: a late, earlier login, and a session on a day already counted
    await _ingest(
        sessions,
        [ev("login", "2026-01-20T03:00:00Z"), ev("session_started", "2026-02-01T05:00:00Z")],
    )

    # when
    async with sessions(YEN_MO) as session:
        incremental = await _rollups(session)
        await rollups.rebuild(session, tenant_id=YEN_MO, tz=zone(TZ))
        rebuilt = await _rollups(session)
        partitions = await _events_by_partition(database, session)

    # then
    assert incremental == {
        "member_days": [
            (D(2026, 1, 20), D(2026, 1, 19)),
            (D(2026, 1, 31), D(2026, 1, 26)),
            (D(2026, 2, 1), D(2026, 1, 26)),
            (D(2026, 2, 2), D(2026, 2, 2)),
        ],
        "member_months": [(D(2026, 1, 1),), (D(2026, 2, 1),)],
        "daily": [
            (D(2026, 1, 20), 1, 0),
            (D(2026, 1, 31), 1, 0),
            (D(2026, 2, 1), 1, 2),
            (D(2026, 2, 2), 1, 1),
        ],
        "monthly": [(D(2026, 1, 1), 1, 0), (D(2026, 2, 1), 1, 3)],
        "activations": [(YM_MEMBER_A, D(2026, 1, 20))],
        "installs": [("phone-1", D(2026, 1, 31)), ("phone-2", D(2026, 2, 2))],
    }
    assert rebuilt == incremental
    assert partitions in ({"adoption_events_2026_01": 4, "adoption_events_2026_02": 6}, None)


async def _events_by_partition(
    database: databases.TestDatabase, session: AsyncSession
) -> dict[str, int] | None:
    """Yen Mo's events per monthly (UTC) partition; None on SQLite, which has one table."""
    if database.backend != "postgresql":
        return None
    rows = await session.execute(
        text(
            "SELECT tableoid::regclass::text, count(*) FROM adoption_events "
            "WHERE tenant_id = :tenant GROUP BY 1"
        ),
        {"tenant": YEN_MO},
    )
    return {name: count for name, count in rows}


async def test_an_id_repeated_in_a_batch_in_any_spelling_is_one_event(
    sessions: Sessions,
) -> None:
    # given one id four times (the repeats differ in type and spelling), and a second id
    first_id, second_id = str(uuid.UUID(int=0xB1)), str(uuid.UUID(int=0xB2))
    batch = [
        ev("session_started", "2026-01-05T02:00:00Z", id=first_id),
        ev("login", "2026-01-06T02:00:00Z", id=first_id.upper()),
        ev("session_started", "2026-01-05T02:00:00Z", id="{" + first_id + "}"),
        ev("session_started", "2026-01-05T03:00:00Z", id=second_id),
    ]

    # when sent, then retried with other spellings
    first = await _ingest(sessions, batch)
    retry = await _ingest(
        sessions,
        [
            ev("session_started", "2026-01-05T02:00:00Z", id="urn:uuid:" + first_id),
            ev("session_started", "2026-01-05T03:00:00Z", id=second_id.replace("-", "")),
        ],
    )

    # then the first occurrence of each id is stored and counted, once
    assert [(o.accepted, o.duplicate) for o in first.outcomes] == [
        (True, False),
        (True, True),
        (True, True),
        (True, False),
    ]
    assert (first.accepted, first.refused, first.stored) == (4, 0, 2)
    assert [(o.accepted, o.duplicate) for o in retry.outcomes] == [(True, True), (True, True)]
    assert retry.stored == 0
    async with sessions(YEN_MO) as session:
        counted = await _rollups(session)
        stored = await session.scalar(
            select(func.count()).select_from(AdoptionEvent).where(AdoptionEvent.tenant_id == YEN_MO)
        )
    assert stored == 2
    assert counted["daily"] == [(D(2026, 1, 5), 1, 2)]
    assert counted["activations"] == []  # the login repeated an id already taken


async def test_a_mixed_batch_stores_the_valid_events_and_refuses_the_others_by_index(
    sessions: Sessions,
) -> None:
    # given
    session_id = str(uuid.UUID(int=0xC1))
    batch = [
        ev("session_started", "2026-02-03T02:00:00Z", id=session_id),
        ev("dance", "2026-02-03T02:00:00Z"),
        ev("login", "2026-02-03T02:05:00Z"),
        "not an event",
        ev("session_started", "2026-02-03T02:00:00Z", id=session_id),
        ev("login", "2026-02-03T02:00:00Z", tenantId="kim-son"),
        ev("login", "2026-02-12T02:00:00Z"),
    ]

    # when
    result = await _ingest(sessions, batch)

    # then
    assert result.outcomes == (
        service.EventOutcome(0, True),
        service.EventOutcome(
            1,
            False,
            code="UNKNOWN_EVENT_TYPE",
            message="Unknown event type 'dance'; use app_installed, login, session_started, "
            "screen_viewed.",
        ),
        service.EventOutcome(2, True),
        service.EventOutcome(
            3, False, code="INVALID_EVENT", message="An event must be a JSON object."
        ),
        service.EventOutcome(4, True, duplicate=True),
        service.EventOutcome(
            5,
            False,
            code="IDENTITY_IN_BODY",
            message="'tenantId' comes from the bearer token, never from the event.",
        ),
        service.EventOutcome(
            6,
            False,
            code="TIMESTAMP_IN_FUTURE",
            message="The timestamp is more than 24 hours ahead.",
        ),
    )
    assert (result.accepted, result.refused, result.stored) == (3, 4, 2)
    async with sessions(YEN_MO) as session:
        counted = await _rollups(session)
    assert counted["daily"] == [(D(2026, 2, 3), 1, 1)]
    assert counted["activations"] == [(YM_MEMBER_A, D(2026, 2, 3))]


async def test_anonymous_events_count_uses_and_installs_but_no_member(
    sessions: Sessions,
) -> None:
    # given an anonymous device: installed, two sessions, a login (no member to activate)
    kiosk = install_token("kiosk")
    events = [
        ev("app_installed", "2026-02-03T01:00:00Z", device="kiosk", installToken=kiosk),
        ev("session_started", "2026-02-03T02:00:00Z", device="kiosk", installToken=kiosk),
        ev("session_started", "2026-02-04T02:00:00Z", device="kiosk", installToken=kiosk),
        ev("login", "2026-02-04T02:00:00Z", device="kiosk", installToken=kiosk),
    ]

    # when
    result = await _ingest(sessions, events, member=None)

    # then
    assert result.stored == 4
    async with sessions(YEN_MO) as session:
        counted = await _rollups(session)
    assert counted == {
        "member_days": [],
        "member_months": [],
        "daily": [(D(2026, 2, 3), 0, 1), (D(2026, 2, 4), 0, 1)],
        "monthly": [(D(2026, 2, 1), 0, 2)],
        "activations": [],
        "installs": [("kiosk", D(2026, 2, 3))],
    }


async def test_a_batch_with_nothing_valid_stores_nothing(sessions: Sessions) -> None:
    # when
    result = await _ingest(sessions, [ev("dance", "2026-02-03T02:00:00Z"), 7])
    empty = await _ingest(sessions, [])

    # then
    assert [o.code for o in result.outcomes] == ["UNKNOWN_EVENT_TYPE", "INVALID_EVENT"]
    assert (result.accepted, result.stored, empty.outcomes) == (0, 0, ())
    async with sessions(YEN_MO) as session:
        assert all(rows == [] for rows in (await _rollups(session)).values())


# A month no other test writes in; committed rows are removed afterwards.
MAY = D(2025, 5, 1)
IN_MAY = dt.datetime(2025, 5, 20, tzinfo=dt.UTC)


@pytest.fixture
async def committed(app_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    yield app_engine
    await remove_committed(app_engine, MAY, D(2025, 6, 1))


async def test_overlapping_batches_sent_at_once_store_and_count_each_event_once(
    committed: AsyncEngine,
) -> None:
    # given nine sessions over three days, sent as three overlapping batches (one of them in
    # reverse order), each batch twice, by six connections at once
    events = [
        ev(
            "session_started",
            f"2025-05-1{day}T0{n}:00:00Z",
            id=str(uuid.UUID(int=0x5E00 + 10 * day + n)),
        )
        for day in (1, 2, 3)
        for n in range(3)
    ]
    batches = [events[:6], events[3:], events[::-1]] * 2
    sessions = make_sessionmaker(committed)

    async def send(batch: list[dict[str, Any]]) -> int:
        async with scope_session(sessions(), YEN_MO) as session:
            result = await service.ingest(
                session=session,
                tenant_id=YEN_MO,
                timezone=TZ,
                member_id=YM_MEMBER_A,
                events=batch,
                now=IN_MAY,
                install_key=INSTALL_KEY,
            )
            await session.commit()
        return result.stored

    # when
    stored = await asyncio.gather(*[send(batch) for batch in batches])

    # then
    assert sum(stored) == 9
    async with scope_session(sessions(), YEN_MO) as session:
        daily = await session.execute(
            select(AdoptionDaily.day, AdoptionDaily.active_members, AdoptionDaily.sessions)
            .where(AdoptionDaily.tenant_id == YEN_MO, AdoptionDaily.day >= MAY)
            .order_by(AdoptionDaily.day)
        )
        monthly = await session.get(AdoptionMonthly, (YEN_MO, MAY))
    assert [tuple(row) for row in daily] == [
        (D(2025, 5, 11), 1, 3),
        (D(2025, 5, 12), 1, 3),
        (D(2025, 5, 13), 1, 3),
    ]
    assert monthly is not None
    assert (monthly.active_members, monthly.sessions) == (1, 9)
