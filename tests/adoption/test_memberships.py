"""Members over time: a later leave, rejoin or transfer leaves members at every earlier date
unchanged, and bad moves are refused with a code and write nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from adoption.counters import activated, members
from adoption.models import AdoptionActivation
from db.sessions import switch_tenant
from tenants.errors import Conflict, InvalidInput, NotFound
from tenants.handbook import memberships
from tests.adoption.conftest import Sessions
from tests.world import KIM_SON, KS_BRANCH, YEN_MO, YM_BRANCH_A, YM_MEMBER_A, YM_MEMBER_B

TODAY = dt.date(2026, 11, 25)
START, DAYS = dt.date(1990, 1, 1), [TODAY - dt.timedelta(days=n) for n in range(0, 400, 7)]


async def _at_every_day(sessions: Sessions) -> dict[str, list[int]]:
    async with sessions(None) as session:
        result = {}
        for tenant in (YEN_MO, KIM_SON):
            await switch_tenant(session, tenant)
            counts = (await members(session, [tenant], START, TODAY)).get(tenant)
            result[tenant] = [counts.upto(day) if counts else 0 for day in DAYS]
        return result


async def test_later_moves_keep_every_earlier_count(sessions: Sessions) -> None:
    # given
    before = await _at_every_day(sessions)
    moved_on = dt.date(2026, 11, 1)
    # when: a Yen Mo member transfers to Kim Son on 1 November
    async with sessions(YEN_MO) as session:
        await memberships.transfer(
            session=session,
            tenant_id=YEN_MO,
            member_id=YM_MEMBER_A,
            to_tenant_id=KIM_SON,
            branch_id=KS_BRANCH,
            on=moved_on,
            today=TODAY,
        )
        await session.commit()
    after = await _at_every_day(sessions)
    # then: every date before the move is unchanged; from it, one fewer here, one more there
    for index, day in enumerate(DAYS):
        shift = 1 if day >= moved_on else 0
        assert after[YEN_MO][index] == before[YEN_MO][index] - shift
        assert after[KIM_SON][index] == before[KIM_SON][index] + shift


@pytest.mark.parametrize(
    ("to", "on", "error"),
    [
        (YEN_MO, dt.date(2026, 11, 1), InvalidInput),
        ("duy-tien", dt.date(2026, 11, 1), NotFound),
        (KIM_SON, TODAY + dt.timedelta(days=1), InvalidInput),
        (KIM_SON, dt.date(1900, 1, 1), InvalidInput),
    ],
)
async def test_bad_transfers_are_refused_and_write_nothing(
    sessions: Sessions, to: str, on: dt.date, error: type[Exception]
) -> None:
    before = await _at_every_day(sessions)
    async with sessions(YEN_MO) as session:
        with pytest.raises(error):
            await memberships.transfer(
                session=session,
                tenant_id=YEN_MO,
                member_id=YM_MEMBER_A,
                to_tenant_id=to,
                branch_id=KS_BRANCH,
                on=on,
                today=TODAY,
            )
        await session.rollback()
    assert await _at_every_day(sessions) == before


async def test_leave_then_rejoin_keeps_the_past(sessions: Sessions) -> None:
    before = await _at_every_day(sessions)
    async with sessions(YEN_MO) as session:
        left, back = dt.date(2026, 6, 1), dt.date(2026, 9, 1)
        await memberships.leave(
            session=session, tenant_id=YEN_MO, member_id=YM_MEMBER_A, on=left, today=TODAY
        )
        with pytest.raises(Conflict):
            await memberships.leave(
                session=session, tenant_id=YEN_MO, member_id=YM_MEMBER_A, on=back, today=TODAY
            )
        await memberships.rejoin(
            session=session, tenant_id=YEN_MO, member_id=YM_MEMBER_A, on=back, today=TODAY
        )
        await session.commit()
    after = await _at_every_day(sessions)
    gone = [1 if left <= day < back else 0 for day in DAYS]
    assert after[YEN_MO] == [b - g for b, g in zip(before[YEN_MO], gone, strict=True)]
    assert YM_BRANCH_A


# Moves drawn by Hypothesis: (member index, kind, days after the previous move).
MOVES = st.lists(
    st.tuples(
        st.integers(0, 1), st.sampled_from(["leave", "rejoin", "transfer"]), st.integers(1, 40)
    ),
    min_size=1,
    max_size=6,
)
MOVERS = (YM_MEMBER_A, YM_MEMBER_B)


def _drawn_sequences() -> list[list[tuple[int, str, int]]]:
    drawn: list[list[tuple[int, str, int]]] = []

    @settings(max_examples=15, database=None, deadline=None)
    @given(moves=MOVES)
    def collect(moves: list[tuple[int, str, int]]) -> None:
        drawn.append(moves)

    collect()
    return drawn


async def _snapshot(session: AsyncSession) -> dict[str, list[tuple[int, int]]]:
    result = {}
    for tenant in (YEN_MO, KIM_SON):
        await switch_tenant(session, tenant)
        joined = (await members(session, [tenant], START, TODAY)).get(tenant)
        active = (await activated(session, [tenant], TODAY)).get(tenant)
        result[tenant] = [
            (joined.upto(d) if joined else 0, active.upto(d) if active else 0) for d in DAYS
        ]
    return result


async def _move(
    session: AsyncSession, where: dict[uuid.UUID, str], member: uuid.UUID, kind: str, on: dt.date
) -> None:
    tenant = where[member]
    await switch_tenant(session, tenant)
    args = {"session": session, "tenant_id": tenant, "member_id": member, "on": on, "today": TODAY}
    try:
        if kind == "leave":
            await memberships.leave(**args)  # type: ignore[arg-type]
        elif kind == "rejoin":
            await memberships.rejoin(**args)  # type: ignore[arg-type]
        else:
            other = KIM_SON if tenant == YEN_MO else YEN_MO
            branch = KS_BRANCH if other == KIM_SON else YM_BRANCH_A
            await memberships.transfer(**args, to_tenant_id=other, branch_id=branch)  # type: ignore[arg-type]
            where[member] = other
    except (Conflict, InvalidInput):
        await switch_tenant(session, tenant)


async def test_any_sequence_of_moves_keeps_the_past_and_rates_in_range(
    sessions: Sessions,
) -> None:
    for moves in _drawn_sequences():
        async with sessions(YEN_MO) as session:
            for member, day in ((YM_MEMBER_A, dt.date(2025, 12, 1)), (YM_MEMBER_B, TODAY)):
                session.add(
                    AdoptionActivation(tenant_id=YEN_MO, member_id=member, activated_on=day)
                )
            await session.flush()
            where, on = dict.fromkeys(MOVERS, YEN_MO), TODAY - dt.timedelta(days=300)
            before = await _snapshot(session)
            for index, kind, gap in moves:
                on = min(on + dt.timedelta(days=gap), TODAY)
                await _move(session, where, MOVERS[index], kind, on)
                after = await _snapshot(session)
                for tenant, points in after.items():
                    for day, now, then in zip(DAYS, points, before[tenant], strict=True):
                        assert 0 <= now[1] <= now[0], (tenant, day, moves)
                        if day < on:
                            assert now == then, (tenant, day, moves)
                before = after
            await session.rollback()
