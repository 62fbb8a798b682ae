"""The counters the dashboard reads always equal the rows they count.

``adoption_daily.new_activations`` / ``new_installs`` count first logins and installs per local
day (migration 0004); ``adoption_member_counts`` holds the per-day changes of members' stays
(0013); ``adoption_activated_counts`` those of stays met by first logins (0015). Triggers keep them
in the writer's transaction, so every path that changes the counted rows moves them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, Uuid, bindparam, delete, func, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from adoption import counters, rollups, service
from adoption.calendar import month_of, week_of, zone
from adoption.models import (
    AdoptionActivatedCount,
    AdoptionActivation,
    AdoptionDaily,
    AdoptionInstall,
    AdoptionMemberCount,
)
from db.dialect import period_start
from db.engine import make_engine
from gateway import migrate
from tenants.handbook.models import Member, MemberMembership, MemberStatus
from tests import databases
from tests.adoption.conftest import INSTALL_KEY, Sessions, ev, install_token, utc
from tests.conftest import IN_CI
from tests.world import KIM_SON, KS_MEMBER, YEN_MO, YM_BRANCH_A, YM_MEMBER_A, YM_MEMBER_B

TZ = "Asia/Ho_Chi_Minh"
NOW = utc("2026-03-20T00:00:00+00:00")


async def _ingest(sessions: Sessions, member: uuid.UUID, events: list[dict[str, str]]) -> None:
    async with sessions(YEN_MO) as session:
        await service.ingest(
            session=session,
            tenant_id=YEN_MO,
            timezone=TZ,
            member_id=member,
            events=events,
            now=NOW,
            install_key=INSTALL_KEY,
        )
        await session.commit()


async def _counted(session: AsyncSession, column: str) -> dict[dt.date, int]:
    """The daily counter ``column``, days with a non-zero count only."""
    counter = AdoptionDaily.__table__.c[column]
    rows = await session.execute(
        select(AdoptionDaily.day, counter).where(AdoptionDaily.tenant_id == YEN_MO, counter != 0)
    )
    return {day: int(n) for day, n in rows}


async def _grouped(session: AsyncSession, model: type, day_column: str) -> dict[dt.date, int]:
    day = model.__table__.c[day_column]  # type: ignore[attr-defined]
    rows = await session.execute(
        select(day, func.count())
        .where(model.__table__.c.tenant_id == YEN_MO)  # type: ignore[attr-defined]
        .group_by(day)
    )
    return {d: int(n) for d, n in rows}


async def _member_counts(session: AsyncSession) -> tuple[dict[dt.date, int], dict[dt.date, int]]:
    """(the counter table, the deltas of Yen Mo's stays in ``member_memberships``), zeros left
    out: +1 on a stay's first day, -1 on the day after its last."""
    counted = await session.execute(
        select(AdoptionMemberCount.joined_on, AdoptionMemberCount.members).where(
            AdoptionMemberCount.tenant_id == YEN_MO, AdoptionMemberCount.members != 0
        )
    )
    stays = await session.execute(
        select(MemberMembership.started_on, MemberMembership.ended_on).where(
            MemberMembership.tenant_id == YEN_MO
        )
    )
    deltas: dict[dt.date, int] = {}
    for first, last in stays:
        deltas[first] = deltas.get(first, 0) + 1
        if last is not None:
            after = last + dt.timedelta(days=1)
            deltas[after] = deltas.get(after, 0) - 1
    return {d: int(n) for d, n in counted}, {d: n for d, n in deltas.items() if n}


async def test_first_logins_and_installs_are_counted_on_their_local_day(sessions: Sessions) -> None:
    # given: A installs on two devices and logs in late on 31 January (1 February local);
    # B logs in on 14 February, then a late event shows an earlier login on 20 January
    await _ingest(
        sessions,
        YM_MEMBER_A,
        [
            ev(
                "app_installed",
                "2026-01-31T23:30:00Z",
                device="a1",
                installToken=install_token("a1"),
            ),
            ev(
                "app_installed",
                "2026-02-03T02:00:00Z",
                device="a2",
                installToken=install_token("a2"),
            ),
            ev("login", "2026-01-31T23:31:00Z", device="a1"),
            ev("login", "2026-02-10T02:00:00Z", device="a2"),
        ],
    )
    await _ingest(sessions, YM_MEMBER_B, [ev("login", "2026-02-14T10:00:00Z")])
    await _ingest(sessions, YM_MEMBER_B, [ev("login", "2026-01-20T10:00:00Z")])

    async with sessions(YEN_MO) as session:
        # when
        activations = await _counted(session, "new_activations")
        installs = await _counted(session, "new_installs")
        # then: B's activation moved from 14 February to 20 January
        assert activations == {dt.date(2026, 2, 1): 1, dt.date(2026, 1, 20): 1}
        assert installs == {dt.date(2026, 2, 1): 1, dt.date(2026, 2, 3): 1}
        assert activations == await _grouped(session, AdoptionActivation, "activated_on")
        assert installs == await _grouped(session, AdoptionInstall, "installed_on")


async def test_rebuild_from_a_date_keeps_the_counters_equal(sessions: Sessions) -> None:
    # given
    await _ingest(
        sessions,
        YM_MEMBER_A,
        [
            ev("app_installed", "2026-01-05T02:00:00Z", installToken=install_token()),
            ev("login", "2026-01-05T02:01:00Z"),
        ],
    )
    await _ingest(
        sessions,
        YM_MEMBER_B,
        [
            ev(
                "app_installed",
                "2026-03-02T02:00:00Z",
                device="b1",
                installToken=install_token("b1"),
            ),
            ev("login", "2026-03-02T02:01:00Z", device="b1"),
        ],
    )
    async with sessions(YEN_MO) as session:
        before = await _counted(session, "new_activations"), await _counted(session, "new_installs")
        # when: rebuilt from February, then from the start
        await rollups.rebuild(session, tenant_id=YEN_MO, tz=zone(TZ), since=dt.date(2026, 2, 1))
        from_february = (
            await _counted(session, "new_activations"),
            await _counted(session, "new_installs"),
        )
        await rollups.rebuild(session, tenant_id=YEN_MO, tz=zone(TZ))
        from_start = (
            await _counted(session, "new_activations"),
            await _counted(session, "new_installs"),
        )
    # then
    expected = {dt.date(2026, 1, 5): 1, dt.date(2026, 3, 2): 1}
    assert before == (expected, expected)
    assert from_february == before
    assert from_start == before


def _newcomer(member_id: uuid.UUID, joined: dt.date, status: MemberStatus) -> Member:
    """A new Yen Mo member (its row opens its first stay)."""
    return Member(
        tenant_id=YEN_MO,
        id=member_id,
        branch_id=YM_BRANCH_A,
        full_name="Nguyễn Văn Mới",
        birth_year=1990,
        joined_on=joined,
        position="Đảng viên",
        status=status.value,
    )


async def test_member_counts_follow_stays_join_date_corrections_and_deletes(
    sessions: Sessions,
) -> None:
    # given
    newcomer, joined = uuid.UUID(int=0xC0FFEE), dt.date(2026, 2, 1)
    async with sessions(YEN_MO) as session:
        counted, grouped = await _member_counts(session)
        assert counted == grouped
        base = counted.get(joined, 0)

        # when: a member joins; is marked transferred without a recorded move; then gets a
        # corrected join date
        session.add(_newcomer(newcomer, joined, MemberStatus.PROBATIONARY))
        await session.flush()
        after_join = (await _member_counts(session))[0].get(joined, 0)
        member = Member.tenant_id == YEN_MO, Member.id == newcomer
        await session.execute(
            update(Member).where(*member).values(status=MemberStatus.TRANSFERRED.value)
        )
        after_transfer = (await _member_counts(session))[0].get(joined, 0)
        await session.execute(
            update(Member)
            .where(*member)
            .values(status=MemberStatus.OFFICIAL.value, joined_on=dt.date(2026, 2, 2))
        )
        moved = await _member_counts(session)
        await session.execute(update(Member).where(*member).values(full_name="Nguyễn Văn Cũ"))
        renamed = await _member_counts(session)
        await session.execute(delete(Member).where(*member))
        deleted = await _member_counts(session)
        await session.rollback()

    # then
    # a status alone moves no count: a transfer is recorded as a stay (tenants.handbook.memberships)
    assert (after_join, after_transfer) == (base + 1, base + 1)
    assert moved[0] == moved[1]
    assert moved[0][dt.date(2026, 2, 2)] >= 1
    assert renamed == moved
    assert deleted[0] == deleted[1] == counted


async def _fresh_at(backend: str, tmp_path: Path, revision: str) -> databases.TestDatabase:
    if backend == "sqlite":
        return await databases.create_sqlite(tmp_path, revision)
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")
    return await databases.create_postgres(revision)


async def _upgraded(
    backend: str,
    tmp_path: Path,
    revision: str,
    seed: Callable[[AsyncConnection], Awaitable[None]],
    *queries: str,
) -> list[list[tuple[str, ...]]]:
    """The rows of ``queries`` (as text) once a database at ``revision``, seeded, is upgraded."""
    db = await _fresh_at(backend, tmp_path, revision)
    engine = make_engine(db.admin_url)
    try:
        async with engine.begin() as conn:
            await seed(conn)
        await asyncio.to_thread(migrate.upgrade, db.admin_url)
        async with engine.connect() as conn:
            return [
                [tuple(str(v) for v in row) for row in await conn.execute(text(query))]
                for query in queries
            ]
    finally:
        await engine.dispose()
        if db.backend == "postgresql":
            await databases.drop_postgres(db)


SEED_0003 = [
    "INSERT INTO provinces VALUES ('p', 'P', 'Asia/Ho_Chi_Minh')",
    "INSERT INTO tenants VALUES ('t', 'p', NULL, 'T', 'district')",
    "INSERT INTO organisations VALUES ('t', '00000000000000000000000000000001', NULL, 'o')",
    "INSERT INTO branches VALUES ('t', '00000000000000000000000000000002', "
    "'00000000000000000000000000000001', 'b')",
    "INSERT INTO adoption_daily VALUES ('t', '2026-01-02', 3, 4)",
    "INSERT INTO adoption_activations VALUES ('t', '00000000000000000000000000000010', "
    "'2026-01-02')",
    "INSERT INTO adoption_activations VALUES ('t', '00000000000000000000000000000011', "
    "'2026-01-03')",
    "INSERT INTO adoption_installs VALUES ('t', 'd1', '2026-01-02')",
]


MEMBERS_0003 = text(
    "INSERT INTO members VALUES "
    "('t', :id, '00000000000000000000000000000002', 'm', 1980, :joined, 'p', :status, false)"
).bindparams(bindparam("id", type_=Uuid), bindparam("joined", type_=Date))
MEMBER_ROWS = [
    {"id": uuid.UUID(int=10), "joined": dt.date(2010, 1, 1), "status": "official"},
    {"id": uuid.UUID(int=11), "joined": dt.date(2010, 1, 1), "status": "official"},
    {"id": uuid.UUID(int=12), "joined": dt.date(2011, 5, 5), "status": "probationary"},
    {"id": uuid.UUID(int=13), "joined": dt.date(2011, 5, 5), "status": "transferred"},
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_migration_counts_rows_that_existed_before_it(
    backend: str, tmp_path: Path
) -> None:
    # given: a database at 0003 holding members, activations and installs
    async def seed(conn: AsyncConnection) -> None:
        for statement in SEED_0003:
            await conn.execute(text(statement))
        await conn.execute(MEMBERS_0003, MEMBER_ROWS)

    # when
    daily_rows, member_rows = await _upgraded(
        backend,
        tmp_path,
        "0003",
        seed,
        "SELECT day, active_members, sessions, new_activations, new_installs "
        "FROM adoption_daily ORDER BY day",
        "SELECT joined_on, members FROM adoption_member_counts ORDER BY joined_on",
    )
    # then: the existing daily row keeps its figures; a day with only an activation is added
    assert daily_rows == [("2026-01-02", "3", "4", "1", "1"), ("2026-01-03", "0", "0", "1", "0")]
    assert member_rows == [("2010-01-01", "2"), ("2011-05-05", "1")]


async def test_the_database_starts_weeks_on_monday_and_months_on_the_1st(
    sessions: Sessions,
) -> None:
    # given: every day of 2026, and the last days of 2025 and first of 2027
    days = [dt.date(2025, 12, 25) + dt.timedelta(days=n) for n in range(380)]
    async with sessions(YEN_MO) as session:
        # when
        weeks = [
            await session.scalar(select(period_start(session, literal(d, Date()), "week")))
            for d in days
        ]
        months = [
            await session.scalar(select(period_start(session, literal(d, Date()), "month")))
            for d in days
        ]
    # then
    assert weeks == [week_of(d) for d in days]
    assert months == [month_of(d) for d in days]


async def _activated_counts(
    session: AsyncSession,
) -> tuple[dict[dt.date, int], dict[dt.date, int]]:
    """(the counter table, the deltas of Yen Mo's stays met by first logins), zeros left out: +1
    on the later of first login and stay start, -1 on the day after a stay's last day."""
    counted = await session.execute(
        select(AdoptionActivatedCount.day, AdoptionActivatedCount.members).where(
            AdoptionActivatedCount.tenant_id == YEN_MO, AdoptionActivatedCount.members != 0
        )
    )
    pairs = await session.execute(
        select(
            AdoptionActivation.activated_on, MemberMembership.started_on, MemberMembership.ended_on
        )
        .join(
            MemberMembership,
            (MemberMembership.tenant_id == AdoptionActivation.tenant_id)
            & (MemberMembership.member_id == AdoptionActivation.member_id),
        )
        .where(AdoptionActivation.tenant_id == YEN_MO)
    )
    deltas: dict[dt.date, int] = {}
    for since, first, last in pairs:
        if last is not None and since > last:
            continue
        start = max(since, first)
        deltas[start] = deltas.get(start, 0) + 1
        if last is not None:
            after = last + dt.timedelta(days=1)
            deltas[after] = deltas.get(after, 0) - 1
    return {d: int(n) for d, n in counted}, {d: n for d, n in deltas.items() if n}


class _Reads:
    """A session that remembers the statements it ran and the rows they returned."""

    def __init__(self, session: AsyncSession) -> None:
        self.session, self.statements, self.rows = session, list[str](), 0

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> list[Any]:
        rows = list(await self.session.execute(statement, *args, **kwargs))
        self.statements.append(str(statement))
        self.rows += len(rows)
        return rows


async def _activated_at(session: AsyncSession, day: dt.date) -> tuple[int, _Reads]:
    reads = _Reads(session)
    found = await counters.activated(reads, [YEN_MO], day)  # type: ignore[arg-type]
    return (found[YEN_MO].upto(day) if YEN_MO in found else 0), reads


async def test_activated_members_are_read_from_day_rows_however_many_stays(
    sessions: Sessions,
) -> None:
    # given: 40 members join on one day, log in first on another, and all leave and rejoin
    joined, first_login, left, back = (dt.date(2026, 2, d) for d in (2, 5, 10, 20))
    newcomers = [uuid.UUID(int=0xA000 + n) for n in range(40)]
    async with sessions(YEN_MO) as session:
        before, reads_before = await _activated_at(session, back)
        for member in newcomers:
            session.add(_newcomer(member, joined, MemberStatus.OFFICIAL))
            session.add(
                AdoptionActivation(tenant_id=YEN_MO, member_id=member, activated_on=first_login)
            )
        await session.flush()
        for member in newcomers:
            stay = MemberMembership.tenant_id == YEN_MO, MemberMembership.member_id == member
            await session.execute(
                update(MemberMembership).where(*stay).values(ended_on=left, ended="left")
            )
            session.add(
                MemberMembership(
                    tenant_id=YEN_MO, member_id=member, started_on=back, began="joined"
                )
            )
        await session.flush()
        # when
        during, _ = await _activated_at(session, left)
        away, _ = await _activated_at(session, left + dt.timedelta(days=1))
        after, reads_after = await _activated_at(session, back)
        counted, recomputed = await _activated_counts(session)
        stays = await session.scalar(
            select(func.count()).where(MemberMembership.tenant_id == YEN_MO)
        )
        await session.rollback()
    # then: the counts follow the stays, read in one statement over the counter's day rows
    assert (during, away, after) == (before + 40, before, before + 40)
    assert counted == recomputed
    assert len(reads_before.statements) == len(reads_after.statements) == 1
    assert "adoption_activated_counts" in reads_after.statements[0]
    assert "member_memberships" not in reads_after.statements[0]
    assert "adoption_activations" not in reads_after.statements[0]
    # 80 more stays and 40 more first logins; at most 3 more day rows (login, leave, return)
    assert (stays or 0) >= 80
    assert reads_after.rows - reads_before.rows <= 3


def _member(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


SEED_0014 = [  # after the province, tenant, organisation and branch of SEED_0003, and members
    "INSERT INTO adoption_activations (tenant_id, member_id, activated_on) VALUES "
    "('t', :m10, '2026-01-02'), ('t', :m11, '2026-01-05'), ('t', :m12, '2026-01-03'), "
    "('t', :m13, '2026-01-04'), ('t', :m99, '2026-01-07')",
    "UPDATE member_memberships SET ended_on = '2026-01-09', ended = 'left' WHERE member_id = :m11",
    "INSERT INTO member_memberships (tenant_id, member_id, started_on, began) "
    "VALUES ('t', :m11, '2026-02-01', 'joined')",
    "UPDATE member_memberships SET ended_on = '2025-12-31', ended = 'left' WHERE member_id = :m13",
]
IDS_0014 = {f"m{n}": _member(n) for n in (10, 11, 12, 13, 99)}
MEMBERS_0014 = [
    {"id": _member(10), "joined": dt.date(2010, 1, 1), "status": "official"},
    {"id": _member(11), "joined": dt.date(2010, 1, 1), "status": "official"},
    {"id": _member(12), "joined": dt.date(2026, 3, 1), "status": "probationary"},
    {"id": _member(13), "joined": dt.date(2011, 5, 5), "status": "official"},
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_migration_counts_activated_members_that_existed_before_it(
    backend: str, tmp_path: Path
) -> None:
    # given: a database at 0014: first logins before, within and after stays, a leave and a
    # rejoin, and a first login whose member id has no stay (an erased member's pseudonym)
    async def seed(conn: AsyncConnection) -> None:
        for statement in SEED_0003[:4]:
            await conn.execute(text(statement))
        await conn.execute(MEMBERS_0003, MEMBERS_0014)
        for statement in SEED_0014:
            names = [n for n in IDS_0014 if f":{n}" in statement]
            bound = text(statement).bindparams(*(bindparam(n, type_=Uuid) for n in names))
            await conn.execute(bound, {n: IDS_0014[n] for n in names})

    # when
    (counted,) = await _upgraded(
        backend,
        tmp_path,
        "0014",
        seed,
        "SELECT day, members FROM adoption_activated_counts ORDER BY day",
    )
    # then: each first login from the later of itself and its stay's start, to the stay's end;
    # none for a stay that ended before it; the stayless one from its day, as before
    assert counted == [
        ("2026-01-02", "1"),
        ("2026-01-05", "1"),
        ("2026-01-07", "1"),
        ("2026-01-10", "-1"),
        ("2026-02-01", "1"),
        ("2026-03-01", "1"),
    ]


async def test_a_tenant_reads_only_its_own_activated_counts(
    database: databases.TestDatabase, sessions: Sessions
) -> None:
    if database.backend != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; SQLite reads the tenants asked for")
    # given: Kim Son's member activated (its stays are the world's)
    day = dt.date(2026, 3, 1)
    async with sessions(KIM_SON) as session:
        session.add(AdoptionActivation(tenant_id=KIM_SON, member_id=KS_MEMBER, activated_on=day))
        await session.flush()
        # when
        own = await counters.activated(session, [YEN_MO, KIM_SON], day)
        async with sessions(YEN_MO) as other:
            from_yen_mo = await counters.activated(other, [YEN_MO, KIM_SON], day)
        await session.rollback()
    # then: Yen Mo's session, even naming Kim Son, reads none of Kim Son's rows
    assert own[KIM_SON].upto(day) == 1
    assert KIM_SON not in from_yen_mo
