"""Each KPI on hand-made event sets, with exact expected counts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from adoption import service
from adoption.retention import cohorts
from adoption.series import Granularity, series
from tests.adoption.conftest import INSTALL_KEY, Sessions, ev, install_token, utc
from tests.world import KIM_SON, KS_MEMBER, YEN_MO, YM_MEMBER_A, YM_MEMBER_A2, YM_MEMBER_B

TZ = "Asia/Ho_Chi_Minh"
NOW = utc("2026-02-10T00:00:00+00:00")
YEN_MO_MEMBERS = 5  # tests/world.py, all joined in 2010


async def _ingest(
    sessions: Sessions,
    member: uuid.UUID | None,
    events: list[dict[str, Any]],
    tenant: str = YEN_MO,
    now: dt.datetime = NOW,
) -> service.IngestResult:
    async with sessions(tenant) as session:
        result = await service.ingest(
            session=session,
            tenant_id=tenant,
            timezone=TZ,
            member_id=member,
            events=events,
            now=now,
            install_key=INSTALL_KEY,
        )
        await session.commit()
    return result


async def _months(sessions: Sessions, start: str, end: str, tenant: str = YEN_MO) -> list[Any]:
    async with sessions(tenant) as session:
        return await series(
            session=session,
            tenant_ids=[tenant],
            start=dt.date.fromisoformat(start),
            end=dt.date.fromisoformat(end),
            granularity=Granularity.MONTH,
        )


async def test_an_event_at_2330_utc_on_31_january_counts_in_february(sessions: Sessions) -> None:
    # given a session at 23:30 UTC on 31 January: 06:30 on 1 February in Ninh Binh
    await _ingest(sessions, YM_MEMBER_A, [ev("session_started", "2026-01-31T23:30:00Z")])

    # when
    january, february = await _months(sessions, "2026-01-01", "2026-02-28")

    # then
    assert (january.uses, january.active_members) == (0, 0)
    assert (february.uses, february.active_members) == (1, 1)


async def test_monthly_active_members_are_distinct_not_a_sum_of_days(sessions: Sessions) -> None:
    # given member A active on three days, member B on one, in January (local time)
    await _ingest(
        sessions,
        YM_MEMBER_A,
        [
            ev("login", "2026-01-05T02:00:00Z"),
            ev("session_started", "2026-01-05T02:01:00Z"),
            ev("session_started", "2026-01-06T02:00:00Z"),
            ev("session_started", "2026-01-20T02:00:00Z"),
        ],
    )
    await _ingest(sessions, YM_MEMBER_B, [ev("session_started", "2026-01-06T09:00:00Z")])

    # when
    (january,) = await _months(sessions, "2026-01-01", "2026-01-31")

    # then 2 distinct members, 4 sessions; daily actives sum to 4 over 31 days
    assert january.active_members == 2
    assert january.uses == 4
    assert january.stickiness == 4 / 31 / 2


async def test_duplicates_and_retries_count_once(sessions: Sessions) -> None:
    # given one batch with an id repeated, then the same batch retried
    batch = [ev("session_started", "2026-01-05T02:00:00Z", id=str(uuid.UUID(int=77)))] * 2
    first = await _ingest(sessions, YM_MEMBER_A, batch)

    # when
    retry = await _ingest(sessions, YM_MEMBER_A, batch)

    # then every answer says accepted, but one session is stored and counted
    assert [(o.accepted, o.duplicate) for o in first.outcomes] == [(True, False), (True, True)]
    assert [(o.accepted, o.duplicate) for o in retry.outcomes] == [(True, True), (True, True)]
    (january,) = await _months(sessions, "2026-01-01", "2026-01-31")
    assert january.uses == 1


async def test_activation_installs_and_anonymous_then_logged_in_device(sessions: Sessions) -> None:
    # given a device installed and used anonymously, then its member logs in (twice), and a
    # second member logs in on another device that never reported an install
    await _ingest(
        sessions,
        None,
        [
            ev("app_installed", "2026-01-03T01:00:00Z", installToken=install_token()),
            ev("session_started", "2026-01-03T01:01:00Z", installToken=install_token()),
        ],
    )
    await _ingest(
        sessions,
        YM_MEMBER_A,
        [
            ev("login", "2026-01-04T01:00:00Z"),
            ev("login", "2026-02-02T01:00:00Z"),
        ],
    )
    await _ingest(sessions, YM_MEMBER_A2, [ev("login", "2026-02-03T01:00:00Z", device="phone-2")])

    # when
    january, february = await _months(sessions, "2026-01-01", "2026-02-09")

    # then the anonymous session is a use but no member is active for it
    assert (january.installs, january.new_installs) == (1, 1)
    assert (january.activated_members, january.new_activations) == (1, 1)
    assert january.activation_rate == 1 / YEN_MO_MEMBERS
    assert (january.uses, january.active_members) == (1, 1)
    assert (february.activated_members, february.new_activations) == (2, 1)
    assert february.activation_rate == 2 / YEN_MO_MEMBERS
    assert february.members == YEN_MO_MEMBERS


async def test_a_late_earlier_login_moves_the_activation_month(sessions: Sessions) -> None:
    # given a February login, then a January login of the same member arriving late
    await _ingest(sessions, YM_MEMBER_B, [ev("login", "2026-02-02T01:00:00Z")])
    await _ingest(sessions, YM_MEMBER_B, [ev("login", "2026-01-10T01:00:00Z")])

    # when
    january, february = await _months(sessions, "2026-01-01", "2026-02-09")

    # then activated in January, active in both months
    assert (january.new_activations, february.new_activations) == (1, 0)
    assert (january.active_members, february.active_members) == (1, 1)


async def test_day_and_week_series_use_local_days(sessions: Sessions) -> None:
    # given sessions at 16:59 and 17:00 UTC on Sunday 4 January: Sunday and Monday locally
    await _ingest(
        sessions,
        YM_MEMBER_A,
        [
            ev("session_started", "2026-01-04T16:59:00Z"),
            ev("session_started", "2026-01-04T17:00:00Z"),
        ],
    )

    # when
    async with sessions(YEN_MO) as session:
        days = await series(
            session=session,
            tenant_ids=[YEN_MO],
            start=dt.date(2026, 1, 4),
            end=dt.date(2026, 1, 5),
            granularity=Granularity.DAY,
        )
        weeks = await series(
            session=session,
            tenant_ids=[YEN_MO],
            start=dt.date(2026, 1, 1),
            end=dt.date(2026, 1, 11),
            granularity=Granularity.WEEK,
        )

    # then
    assert [(p.start, p.uses, p.active_members) for p in days] == [
        (dt.date(2026, 1, 4), 1, 1),
        (dt.date(2026, 1, 5), 1, 1),
    ]
    assert [(p.start, p.end, p.uses, p.active_members) for p in weeks] == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 4), 1, 1),
        (dt.date(2026, 1, 5), dt.date(2026, 1, 11), 1, 1),
    ]


async def test_retention_by_activation_month(sessions: Sessions) -> None:
    # given A and B activated in December; A comes back in January, neither in February
    await _ingest(
        sessions,
        YM_MEMBER_A,
        [
            ev("login", "2025-12-10T01:00:00Z"),
            ev("session_started", "2026-01-10T01:00:00Z"),
        ],
    )
    await _ingest(sessions, YM_MEMBER_B, [ev("login", "2025-12-11T01:00:00Z")])
    await _ingest(sessions, YM_MEMBER_A2, [ev("login", "2026-01-11T01:00:00Z")])

    # when
    async with sessions(YEN_MO) as session:
        found = await cohorts(session=session, tenant_ids=[YEN_MO], as_of=dt.date(2026, 2, 9))

    # then
    assert [(c.month, c.activated, c.active) for c in found] == [
        (dt.date(2025, 12, 1), 2, (2, 1, 0)),
        (dt.date(2026, 1, 1), 1, (1, 0)),
    ]
    assert found[0].rates == (1.0, 0.5, 0.0)


async def test_retention_counts_only_the_cohorts_asked_for(sessions: Sessions) -> None:
    # given cohorts of December (A), January (B) and February (A2), all active afterwards
    await _ingest(
        sessions,
        YM_MEMBER_A,
        [ev("login", "2025-12-10T01:00:00Z"), ev("session_started", "2026-01-10T01:00:00Z")],
    )
    await _ingest(
        sessions,
        YM_MEMBER_B,
        [ev("login", "2026-01-11T01:00:00Z"), ev("session_started", "2026-02-06T01:00:00Z")],
    )
    await _ingest(sessions, YM_MEMBER_A2, [ev("login", "2026-02-05T01:00:00Z")])

    # when one month is asked for, as of 20 January
    async with sessions(YEN_MO) as session:
        found = await cohorts(
            session=session, tenant_ids=[YEN_MO], as_of=dt.date(2026, 1, 20), months=1
        )

    # then only January's cohort, active up to January
    assert [(c.month, c.activated, c.active) for c in found] == [(dt.date(2026, 1, 1), 1, (1,))]


async def test_a_tenant_sees_only_its_own_events(sessions: Sessions) -> None:
    # given a Kim Son session
    await _ingest(
        sessions, KS_MEMBER, [ev("session_started", "2026-01-05T02:00:00Z")], tenant=KIM_SON
    )

    # when Yen Mo's session asks for Kim Son's rollups
    (kim_son_from_yen_mo,) = await _months(sessions, "2026-01-01", "2026-01-31", tenant=YEN_MO)

    # then Yen Mo's own series is empty; Kim Son's has the session
    (kim_son,) = await _months(sessions, "2026-01-01", "2026-01-31", tenant=KIM_SON)
    assert kim_son.uses == 1
    assert kim_son_from_yen_mo.uses == 0
