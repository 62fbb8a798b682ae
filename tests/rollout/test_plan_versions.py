"""Every plan action takes the plan version the admin saw: a stale one is refused with
VERSION_CONFLICT and nothing is written (both databases)."""

from __future__ import annotations

from typing import Any

import pytest

from rollout import schedule, waves
from rollout.errors import VersionConflict
from rollout.waves import Action
from tests.rollout.plan_actions import ACTIONS, LATER, P, act, written
from tests.rollout.plan_world import ADMIN, KEY, make_plan
from tests.world import NOW


async def waiting_world(session, kpis) -> dict[str, Any]:
    """Kim Son at 100% (wave 1 done), the last wave requested by ADMIN, a step scheduled."""
    await make_plan(session)
    for action in (Action.START, Action.ADVANCE, Action.ADVANCE):
        await waves.step_forward(
            session=session,
            province_id=P,
            flag_key=KEY,
            action=action,
            actor=ADMIN,
            now=NOW,
            kpis=kpis,
        )
    requested = await waves.step_forward(
        session=session,
        province_id=P,
        flag_key=KEY,
        action=Action.ADVANCE,
        actor=ADMIN,
        now=NOW,
        kpis=kpis,
    )
    step = await schedule.schedule(
        session=session,
        province_id=P,
        flag_key=KEY,
        action=Action.PAUSE,
        run_at=LATER,
        actor=ADMIN,
        reason="later",
        now=NOW,
    )
    await session.commit()
    assert requested.approval is not None
    return {
        "approval_id": requested.approval.id,
        "step_id": step.id,
        "kpis": kpis,
        "version": requested.view.plan.version,
    }


@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("offset", [-1, 1, -100])
async def test_a_stale_version_is_refused_and_nothing_is_written(session, kpis, name, offset):
    # given
    world = await waiting_world(session, kpis)
    before = await written(session)
    stale = world["version"] + offset
    # when
    with pytest.raises(VersionConflict) as raised:
        await act(name, session, stale, world)
    await session.rollback()
    # then
    assert raised.value.code == "VERSION_CONFLICT"
    assert raised.value.message == (
        f"The plan of {KEY!r} changed meanwhile: you edited version {stale}, "
        f"it is now at {world['version']}."
    )
    assert await written(session) == before


@pytest.mark.parametrize("name", sorted(ACTIONS))
async def test_the_version_the_admin_saw_is_accepted(session, kpis, name):
    # given
    world = await waiting_world(session, kpis)
    before = await written(session)
    # when
    await act(name, session, world["version"], world)
    await session.commit()
    # then: the action wrote its audit row (at least)
    after = await written(session)
    assert after["audit"] > before["audit"]


async def test_the_second_of_two_rollbacks_from_the_same_view_is_refused(session, kpis):
    # given: two admins saw the same version
    world = await waiting_world(session, kpis)
    seen = world["version"]
    await act("rollback", session, seen, world)
    await session.commit()
    after_first = await written(session)
    # when
    with pytest.raises(VersionConflict):
        await act("rollback", session, seen, world)
    await session.rollback()
    # then: one rollback only (wave 1 back to 50%, not to the pilot)
    assert after_first["plan"][2] == (1, 0)
    assert await written(session) == after_first
