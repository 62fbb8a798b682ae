"""The plan-safety surface over GraphQL: expectedVersion, nextSteps, withdraw/reject/cancel,
rollback to a chosen step (both databases)."""

from __future__ import annotations

from tests.graphql import gql
from tests.rollout.plan_world import KEY

STATE = """query($flag: String!) { rollout(flag: $flag) {
  status wave step version flagState timeZone
  nextSteps { action wave step tenantCount members needsSecondApprover
    tenants { tenant before after } }
  pendingApprovals { id requestedBy step { wave step members tenantCount } }
  scheduledSteps { id action } } }"""
STEP = "applied status wave step approvalId errors { code message }"
ADVANCE = f"""mutation($flag: String!, $v: Int) {{
  r: advanceRollout(flag: $flag, overrideReason: "go", expectedVersion: $v) {{ {STEP} }} }}"""
ROLLBACK = f"""mutation($flag: String!, $v: Int, $w: Int, $s: Int) {{
  r: rollbackRollout(flag: $flag, reason: "stop", expectedVersion: $v, toWave: $w, toStep: $s)
  {{ {STEP} }} }}"""
WITHDRAW = """mutation($id: ID!, $v: Int) {
  r: withdrawRolloutApproval(approvalId: $id, reason: "later", expectedVersion: $v)
  { id status errors { code message } } }"""
REJECT = """mutation($id: ID!) { r: rejectRolloutApproval(approvalId: $id, reason: "no")
  { id status errors { code message } } }"""
SCHEDULE = """mutation($flag: String!) { r: scheduleRolloutStep(flag: $flag, action: PAUSE,
  runAt: "2099-01-02T02:30:00Z", reason: "Tet") { id errors { code message } } }"""
CANCEL = """mutation($id: ID!) { r: cancelScheduledRolloutStep(id: $id, reason: "no need")
  { id status errors { code message } } }"""


async def call(client, document, **variables):
    status, body = await gql(client, document, {"flag": KEY, **variables})
    assert status == 200, body
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def state(client):
    return await call(client, STATE)


async def test_a_stale_version_is_refused_with_a_coded_error_and_nothing_changes(plan, admin):
    # given
    await call(admin, "mutation($flag: String!) { startRollout(flag: $flag) { applied } }")
    seen = (await state(admin))["version"]
    await call(admin, ADVANCE, v=seen)
    before = await state(admin)
    # when: a second action from the same view
    result = await call(admin, ADVANCE, v=seen)
    # then
    assert result["applied"] is False
    assert [(e["code"], e["message"]) for e in result["errors"]] == [
        (
            "VERSION_CONFLICT",
            f"The plan of {KEY!r} changed meanwhile: you edited version {seen}, "
            f"it is now at {seen + 1}.",
        )
    ]
    assert await state(admin) == before


async def test_next_steps_pending_approvals_and_their_ends(plan, admin, second_admin):
    # given: Kim Son at 100%
    await call(admin, "mutation($flag: String!) { startRollout(flag: $flag) { applied } }")
    for _ in range(2):
        await call(admin, ADVANCE, v=(await state(admin))["version"])
    now = await state(admin)
    # then: the API says what each step changes and who must approve
    assert now["timeZone"] == "Asia/Ho_Chi_Minh"
    assert [
        (o["action"], o["wave"], o["step"], o["needsSecondApprover"]) for o in now["nextSteps"]
    ] == [
        ("advance", 2, 0, True),
        ("rollback", 1, 0, False),
        ("rollback", 0, 0, False),
        ("rollback", -1, -1, False),
    ]
    assert now["nextSteps"][1]["tenants"] == [{"tenant": "kim-son", "before": 100.0, "after": 50.0}]
    # when: ADMIN requests the last wave; the second admin rejects it
    requested = await call(admin, ADVANCE, v=now["version"])
    [pending] = (await state(admin))["pendingApprovals"]
    assert (pending["id"], pending["step"]["wave"], pending["step"]["tenantCount"]) == (
        requested["approvalId"],
        2,
        3,
    )
    rejected = await call(second_admin, REJECT, id=pending["id"])
    assert (rejected["status"], rejected["errors"]) == ("rejected", [])
    # and: a new request is withdrawn by its requester, then the plan rolls back to nothing
    again = await call(admin, ADVANCE, v=now["version"])
    withdrawn = await call(second_admin, WITHDRAW, id=again["approvalId"], v=now["version"])
    assert [e["code"] for e in withdrawn["errors"]] == ["NOT_REQUESTER"]
    assert (await call(admin, WITHDRAW, id=again["approvalId"], v=now["version"]))["status"] == (
        "withdrawn"
    )
    back = await call(admin, ROLLBACK, v=now["version"], w=-1, s=-1)
    assert (back["status"], back["wave"], back["step"], back["errors"]) == ("draft", -1, -1, [])


async def test_a_scheduled_step_is_cancelled_once(plan, admin):
    # given
    scheduled = await call(admin, SCHEDULE)
    # when
    cancelled = await call(admin, CANCEL, id=scheduled["id"])
    again = await call(admin, CANCEL, id=scheduled["id"])
    # then
    assert (cancelled["status"], cancelled["errors"]) == ("cancelled", [])
    assert [e["code"] for e in again["errors"]] == ["STEP_NOT_FOUND"]
    assert (await state(admin))["scheduledSteps"] == []
