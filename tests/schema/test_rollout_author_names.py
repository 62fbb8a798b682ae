"""Rows that name their author keep the author's name as the token gave it when they wrote them:
pending approvals and scheduled steps (``requestedByName``), notices (``acknowledgedByName``)
and flag overrides (``updatedByName``); null when the token carried no name. A scheduled step's
audit rows, written later by the scheduler, name its requester."""

from __future__ import annotations

import datetime as dt

import pytest

from rollout import guardrail, schedule
from tenants.types import Role
from tests import world
from tests.graphql import gql
from tests.rollout.guardrail_world import KIM_SON_FELL, CountingKpis, running_in_wave_1
from tests.rollout.plan_world import ADMIN, KEY

NAMES = [pytest.param("Chị Lan", id="named"), pytest.param(None, id="nameless")]
ADVANCE = """mutation($flag: String!) {
  result: advanceRollout(flag: $flag, overrideReason: "ok") { approvalId errors { code } } }"""
START = """mutation($flag: String!) {
  result: startRollout(flag: $flag) { errors { code } } }"""
SCHEDULE = """mutation($flag: String!, $at: DateTime!) {
  result: scheduleRolloutStep(flag: $flag, action: PAUSE, runAt: $at, reason: "Monday") {
    errors { code } } }"""
WAITING = """query($flag: String!) { rollout(flag: $flag) {
  pendingApprovals { requestedBy requestedByName }
  scheduledSteps { requestedBy requestedByName } } }"""
AUDIT = """query($action: String) { rolloutAudit(action: $action) { actor actorName } }"""
NOTICES = """query { rolloutNotices { id acknowledgedBy acknowledgedByName } }"""
ACKNOWLEDGE = """mutation($id: ID!) {
  result: acknowledgeRolloutNotice(id: $id) { errors { code } } }"""
OVERRIDE = """mutation {
  result: setFlagOverride(flag: "handbook.notices", tenant: "yen-mo", variant: "off",
    reason: "ask") { errors { code } } }"""
OVERRIDES = """query { rolloutFlags { key overrides { tenant updatedBy updatedByName } } }"""


async def data(client, document, **variables):
    status, body = await gql(client, document, variables or None)
    assert (status, body.get("errors")) == (200, None), body
    return body["data"]


async def act(client, document, **variables):
    assert (await data(client, document, **variables))["result"]["errors"] == []


@pytest.mark.parametrize("name", NAMES)
async def test_a_request_and_a_scheduled_step_name_their_requester(
    plan, token, client_for, second_admin, name
):
    # given: the requester asks for the last wave (four eyes) and schedules a pause
    requester = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN, name=name))
    await act(requester, START, flag=KEY)
    for _ in range(2):
        await act(requester, ADVANCE, flag=KEY)
    asked = await data(requester, ADVANCE, flag=KEY)
    assert asked["result"]["approvalId"] is not None
    await act(requester, SCHEDULE, flag=KEY, at="2026-11-30T00:00:00Z")
    # when another admin reads what waits
    waiting = (await data(second_admin, WAITING, flag=KEY))["rollout"]
    # then
    author = {"requestedBy": ADMIN, "requestedByName": name}
    assert waiting == {"pendingApprovals": [author], "scheduledSteps": [author]}


@pytest.mark.parametrize("name", NAMES)
async def test_the_scheduled_steps_own_audit_rows_name_its_requester(
    plan, token, client_for, second_admin, name
):
    # given
    requester = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN, name=name))
    await act(requester, START, flag=KEY)
    await act(requester, SCHEDULE, flag=KEY, at="2026-11-30T00:00:00Z")
    # when the scheduler runs the pause
    later = dt.datetime(2026, 11, 30, 1, tzinfo=dt.UTC)
    ran = await schedule.run_due(
        sessionmaker=plan.sessionmaker, kpis=plan.kpis, worker="w1", now=later
    )
    # then: the pause is the requester's, by name; the run is the scheduler's
    assert len(ran) == 1
    pause = (await data(second_admin, AUDIT, action="plan.pause"))["rolloutAudit"]
    run = (await data(second_admin, AUDIT, action="schedule.run"))["rolloutAudit"]
    assert pause == [{"actor": ADMIN, "actorName": name}]
    assert run == [{"actor": "schedule:w1", "actorName": None}]


@pytest.mark.parametrize("name", NAMES)
async def test_an_acknowledged_notice_names_who_acknowledged_it(gateway, token, client_for, name):
    # given: the guardrail paused the plan for Kim Son's fall
    kpis = CountingKpis(weekly=dict(KIM_SON_FELL))
    gateway.kpis = kpis
    async with gateway.sessionmaker() as session:
        await running_in_wave_1(session, kpis)
        await guardrail.check(session=session, kpis=kpis, policy=guardrail.Policy(), now=world.NOW)
    admin = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN, name=name))
    [notice] = (await data(admin, NOTICES))["rolloutNotices"]
    # when
    await act(admin, ACKNOWLEDGE, id=notice["id"])
    # then
    auditor = client_for(token(Role.AUDITOR))
    assert (await data(auditor, NOTICES))["rolloutNotices"] == [
        {"id": notice["id"], "acknowledgedBy": ADMIN, "acknowledgedByName": name}
    ]


@pytest.mark.parametrize("name", NAMES)
async def test_a_flag_override_names_who_set_it(plan, token, client_for, name):
    # given
    admin = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN, name=name))
    # when
    await act(admin, OVERRIDE)
    # then
    flags = (await data(client_for(token(Role.AUDITOR)), OVERRIDES))["rolloutFlags"]
    overrides = {f["key"]: f["overrides"] for f in flags}
    assert overrides["handbook.notices"] == [
        {"tenant": world.YEN_MO, "updatedBy": ADMIN, "updatedByName": name}
    ]
