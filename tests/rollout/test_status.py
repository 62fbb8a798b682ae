"""A plan's state for admins: tenants, gates, the guardrail threshold in force, what waits."""

from __future__ import annotations

import datetime as dt

from rollout import schedule, status
from rollout.guardrail import Policy
from rollout.waves import Action
from tests.rollout.plan_world import ADMIN, GIA_VIEN, HOA_LU, KEY, NHO_QUAN, make_plan
from tests.world import KIM_SON, NOW, YEN_MO


async def test_the_state_of_a_draft_plan_with_a_scheduled_start(session, kpis):
    # given: a draft plan, its start scheduled for tomorrow
    await make_plan(session)
    await schedule.schedule(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.START,
        run_at=NOW + dt.timedelta(days=1),
        actor=ADMIN,
        reason="Monday",
        now=NOW,
    )
    # when
    found = await status.state(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        kpis=kpis,
        now=NOW,
        policy=Policy(default_drop=0.25),
    )
    # then
    assert found is not None
    assert found.flag_key == KEY
    assert found.report.view.plan.status == "draft"
    assert [(t.tenant_id, t.wave, t.state) for t in found.report.tenants] == [
        (YEN_MO, 0, "off"),
        (KIM_SON, 1, "off"),
        (GIA_VIEN, 2, "off"),  # a wave's tenants by slug
        (HOA_LU, 2, "off"),
        (NHO_QUAN, 2, "off"),
    ]
    assert found.report.gates[0] is None
    assert found.guardrail_effective_drop == 0.25  # the plan sets none: the deployment's
    assert found.pending_approvals == []
    assert [(s.action, s.reason) for s in found.scheduled_steps] == [("start", "Monday")]


async def test_a_flag_without_a_plan_has_no_state(session, kpis):
    found = await status.state(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        kpis=kpis,
        now=NOW,
        policy=Policy(),
    )
    assert found is None
