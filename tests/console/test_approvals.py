"""What waits on the rollout page in Chromium: a step asked for and made stale by a rollback,
withdrawn by its requester, rejected by a second admin; a step scheduled in the province's time
and cancelled; the same page in Vietnamese.

Runs on the shared demo gateway after ``test_console.py``: each test first brings the plan where it
needs it through the API (for a request: one step before a step into the last wave, which waits
for a second province admin), and checks what the API and its audit say after the console acted.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.console.conftest import SECOND_ADMIN, filter_audit, sign_in
from tests.console.test_plan_safety import running_with_two_rollbacks

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.async_api").expect

ADMIN = "province_admin@province"  # the subject of the `admin_token` fixture
STATE = """query { rollout(flag: "handbook") { status wave step version timeZone
  waves { ramp }
  nextSteps { action wave step needsSecondApprover }
  pendingApprovals { id requestedBy request step { wave step } }
  scheduledSteps { id action runAt requestedBy reason } } }"""
ADVANCE = """mutation { result: advanceRollout(flag: "handbook", overrideReason: "test")
  { applied approvalId errors { code } } }"""
ONE_STEP_BACK = """mutation { result: rollbackRollout(flag: "handbook", reason: "test")
  { applied errors { code } } }"""
SCHEDULE = """mutation($runAt: DateTime!, $reason: String!) { result: scheduleRolloutStep(
  flag: "handbook", action: PAUSE, runAt: $runAt, reason: $reason) { id errors { code } } }"""
WITHDRAW = """mutation($id: ID!) { result: withdrawRolloutApproval(approvalId: $id,
  reason: "Test done") { errors { code } } }"""
CANCEL = """mutation($id: ID!) { result: cancelScheduledRolloutStep(id: $id, reason: "Test done")
  { errors { code } } }"""
AUDIT = """query($action: String!) { rolloutAudit(flag: "handbook", action: $action, first: 50)
  { at actor action reason before after } }"""
WAITING_NOTE = "This step needs a second province admin's approval."
OVERRIDE = "Reason to override the failing gate"


@pytest.fixture(scope="module")
def second_admin_token(live_gateway) -> str:
    return live_gateway.token("--role", "province_admin", "--member", SECOND_ADMIN)


def rollout(live_gateway, token) -> dict:
    return live_gateway.graphql(token, STATE)["rollout"]


def forward_of(state: dict) -> dict | None:
    return next((o for o in state["nextSteps"] if o["action"] in ("start", "advance")), None)


def before_a_four_eyes_step(live_gateway, token) -> dict:
    """The plan running one step before a step that waits for a second province admin."""
    running_with_two_rollbacks(live_gateway, token)
    state = rollout(live_gateway, token)
    for _ in range(4):
        forward = forward_of(state)
        if state["status"] == "running" and forward and forward["needsSecondApprover"]:
            return state
        step = ADVANCE if forward else ONE_STEP_BACK  # completed: back into the last wave
        assert live_gateway.graphql(token, step)["result"]["errors"] == []
        state = rollout(live_gateway, token)
    raise AssertionError(f"no step waits for a second admin: {state}")


def ask_for_the_step(live_gateway, token) -> str:
    """Ask through the API for the plan's next (four-eyes) step; the pending approval's id."""
    asked = live_gateway.graphql(token, ADVANCE)["result"]
    assert (asked["applied"], asked["errors"]) == (False, [])
    return asked["approvalId"]


def audit_row(live_gateway, token, action: str, key: str, value: str) -> dict:
    """The newest ``action`` row whose ``after`` (else ``before``) has ``key`` = ``value``."""
    rows = live_gateway.graphql(token, AUDIT, {"action": action})["rolloutAudit"]
    found = [
        r for r in rows if value in ((r["after"] or {}).get(key), (r["before"] or {}).get(key))
    ]
    assert len(found) == 1, rows
    return found[0]


def step_label(state: dict, wave: int, step: int) -> str:
    """How the console names a position (plan.stepLabel)."""
    return f"wave {wave}, step {step + 1} ({state['waves'][wave]['ramp'][step]:g}%)"


async def rollout_page(new_page, token, version: int):
    page = await new_page()
    await sign_in(page, token, view="rollout")
    await page.locator(f"#rollout-status[data-version='{version}']").wait_for()
    return page


async def test_a_rollback_invalidates_a_pending_approval_and_the_audit_says_so(
    live_gateway, admin_token, second_admin_token, new_page, screenshot
):
    # given: A asks in the console for the step into the last wave, B sees it to approve
    state = before_a_four_eyes_step(live_gateway, admin_token)
    forward = forward_of(state)
    waiting = {a["id"] for a in state["pendingApprovals"]}
    first = await rollout_page(new_page, admin_token, state["version"])
    await first.locator("#action-advance").click()
    dialog = first.get_by_role("dialog")
    assert WAITING_NOTE in await dialog.inner_text()
    if await dialog.get_by_label(OVERRIDE).count():
        await dialog.get_by_label(OVERRIDE).fill("Province decision")
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(first.locator("#action-result .message.ok")).to_have_text(
        "Requested; waiting for another province admin's approval."
    )
    asked = rollout(live_gateway, admin_token)
    [approval] = [a for a in asked["pendingApprovals"] if a["id"] not in waiting]
    assert approval["requestedBy"] == ADMIN
    assert approval["step"] == {"wave": forward["wave"], "step": forward["step"]}
    assert approval["request"]["from"] == [state["wave"], state["step"]]
    assert asked["version"] == state["version"]  # asking does not move the plan
    second = await rollout_page(new_page, second_admin_token, asked["version"])
    request = second.locator(f"#approvals li[data-approval='{approval['id']}']")
    await expect(request.locator("button")).to_have_text(["Approve", "Reject"])
    await screenshot(second, "40-approval-asked")
    # when: A rolls the plan back
    await first.locator("#action-rollback").click()
    await dialog.get_by_label("Reason (audited)").fill("Incident in wave 1")
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(first.locator("#action-result .message.ok")).to_have_text("Done: Roll back.")
    # then: nothing waits any more (every request was asked from elsewhere), for the API, for
    # B's open page (live) and for a page B opens now: no approve button
    moved = rollout(live_gateway, admin_token)
    assert moved["version"] == asked["version"] + 1
    assert moved["pendingApprovals"] == []
    await expect(request).to_have_count(0, timeout=15_000)
    again = await rollout_page(new_page, second_admin_token, moved["version"])
    await expect(again.locator("#approvals-empty")).to_have_text("No step is waiting for approval.")
    assert await again.locator("button.approve").count() == 0
    await screenshot(again, "40-approval-invalidated")
    # and the audit records the invalidation, by whoever moved the plan, with why
    row = audit_row(live_gateway, admin_token, "approval.invalidate", "approval_id", approval["id"])
    position = f"wave {state['wave']}, step {state['step'] + 1}"
    assert row["actor"] == ADMIN
    assert row["reason"] == f"The plan moved from {position} where this step was asked."
    assert row["after"]["status"] == "invalidated"
    assert row["after"]["requested_by"] == ADMIN
    # and the console's audit log says it in words, the code only on hover
    log = await new_page()
    await sign_in(log, admin_token, view="audit")
    await log.locator("#audit-table").wait_for()
    await filter_audit(log, {"Action": "approval.invalidate"})
    newest = log.locator("#audit-table tbody tr").first
    await expect(newest.locator(".action")).to_have_text("Request no longer valid")
    assert await newest.locator(".action").get_attribute("title") == "approval.invalidate"
    assert (await newest.locator("td").last.inner_text()) == row["reason"]
    await screenshot(log, "41-audit-invalidated")


async def test_the_requester_withdraws_their_request_with_a_reason(
    live_gateway, admin_token, new_page, screenshot
):
    # given: A has asked for the four-eyes step
    state = before_a_four_eyes_step(live_gateway, admin_token)
    forward = forward_of(state)
    approval_id = ask_for_the_step(live_gateway, admin_token)
    page = await rollout_page(new_page, admin_token, state["version"])
    request = page.locator(f"#approvals li[data-approval='{approval_id}']")
    # then: on their own request A may withdraw, not approve nor reject
    await expect(request.locator("button")).to_have_text(["Withdraw"])
    assert f"{ADMIN} asked at" in await request.inner_text()
    await screenshot(page, "42-approval-own-request")
    # when
    reason = f"Asked too early ({uuid.uuid4().hex[:8]})"
    await request.get_by_role("button", name="Withdraw").click()
    dialog = page.get_by_role("dialog")
    target = step_label(state, forward["wave"], forward["step"])
    assert (
        await dialog.locator("#confirm-body").inner_text() == f"Withdraw your request: to {target}."
    )
    await dialog.get_by_label("Reason (audited)").fill(reason)
    await dialog.get_by_role("button", name="Confirm").click()
    # then
    await expect(page.locator("#action-result .message.ok")).to_have_text("Request withdrawn.")
    await expect(request).to_have_count(0)
    after = rollout(live_gateway, admin_token)
    assert approval_id not in {a["id"] for a in after["pendingApprovals"]}
    assert (after["wave"], after["step"]) == (state["wave"], state["step"])  # nothing moved
    row = audit_row(live_gateway, admin_token, "approval.withdraw", "approval_id", approval_id)
    assert (row["actor"], row["reason"]) == (ADMIN, reason)
    assert row["after"]["status"] == "withdrawn"
    assert row["after"]["to"] == [forward["wave"], forward["step"]]
    await screenshot(page, "43-approval-withdrawn")


async def test_a_second_admin_rejects_a_request_with_a_reason(
    live_gateway, admin_token, second_admin_token, new_page, screenshot
):
    # given: A has asked for the four-eyes step
    state = before_a_four_eyes_step(live_gateway, admin_token)
    forward = forward_of(state)
    approval_id = ask_for_the_step(live_gateway, admin_token)
    page = await rollout_page(new_page, second_admin_token, state["version"])
    request = page.locator(f"#approvals li[data-approval='{approval_id}']")
    # then: B may approve or reject A's request, not withdraw it
    await expect(request.locator("button")).to_have_text(["Approve", "Reject"])
    # when
    reason = f"Wave 1 support desk not ready ({uuid.uuid4().hex[:8]})"
    await request.get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog")
    target = step_label(state, forward["wave"], forward["step"])
    body = f"Reject {ADMIN}'s request: to {target}."
    assert await dialog.locator("#confirm-body").inner_text() == body
    await dialog.get_by_label("Reason (audited)").fill(reason)
    await screenshot(page, "44-approval-reject-dialog")
    await dialog.get_by_role("button", name="Confirm").click()
    # then
    await expect(page.locator("#action-result .message.ok")).to_have_text("Request rejected.")
    await expect(request).to_have_count(0)
    after = rollout(live_gateway, admin_token)
    assert approval_id not in {a["id"] for a in after["pendingApprovals"]}
    assert (after["wave"], after["step"]) == (state["wave"], state["step"])
    row = audit_row(live_gateway, admin_token, "approval.reject", "approval_id", approval_id)
    assert (row["actor"], row["reason"]) == (SECOND_ADMIN, reason)
    assert (row["after"]["status"], row["after"]["requested_by"]) == ("rejected", ADMIN)
    await screenshot(page, "45-approval-rejected")


async def test_a_step_scheduled_in_the_provinces_time_is_cancelled_with_a_reason(
    live_gateway, admin_token, new_page, screenshot
):
    # given: the schedule form, its time field labelled with the province's time zone
    running_with_two_rollbacks(live_gateway, admin_token)
    state = rollout(live_gateway, admin_token)
    zone = state["timeZone"]
    assert zone == "Asia/Ho_Chi_Minh"  # Ninh Binh: UTC+7 all year, the browser runs in UTC
    page = await rollout_page(new_page, admin_token, state["version"])
    assert await page.locator("label[for=schedule-at]").inner_text() == f"When ({zone} time)"
    scheduled = {s["id"] for s in state["scheduledSteps"]}
    # when: A schedules a pause at 06:30 on 2 January 2099 there (23:30 UTC the day before)
    reason = f"Quiet hours ({uuid.uuid4().hex[:8]})"
    await page.get_by_label("Action to schedule").select_option("PAUSE")
    await page.locator("#schedule-at").fill("2099-01-02T06:30")
    await page.locator("#schedule-reason").fill(reason)
    await page.get_by_role("button", name="Schedule", exact=True).click()
    # then: the API holds the instant, the console shows it in the province's time
    shown = "02/01/2099, 06:30 GMT+7"
    await expect(page.locator("#schedule-result .message.ok")).to_have_text(
        f"Scheduled for {shown}."
    )
    [step] = [
        s for s in rollout(live_gateway, admin_token)["scheduledSteps"] if s["id"] not in scheduled
    ]
    assert dt.datetime.fromisoformat(step["runAt"]) == dt.datetime(
        2099, 1, 1, 23, 30, tzinfo=dt.UTC
    )
    assert (step["action"], step["requestedBy"], step["reason"]) == ("pause", ADMIN, reason)
    item = page.locator(f"#scheduled li[data-step='{step['id']}']")
    expected = f"Pause at {shown} (scheduled by {ADMIN}) — {reason} Cancel step"
    await expect(item).to_have_text(expected)
    await screenshot(page, "46-step-scheduled")
    # when: A cancels it
    cancel_reason = f"Pause no longer needed ({uuid.uuid4().hex[:8]})"
    await item.get_by_role("button", name="Cancel step").click()
    dialog = page.get_by_role("dialog")
    body = f"Cancel the scheduled step: Pause at {shown}."
    assert await dialog.locator("#confirm-body").inner_text() == body
    await dialog.get_by_label("Reason (audited)").fill(cancel_reason)
    await dialog.get_by_role("button", name="Confirm").click()
    # then
    await expect(page.locator("#schedule-result .message.ok")).to_have_text(
        "Scheduled step cancelled."
    )
    await expect(item).to_have_count(0)
    after = rollout(live_gateway, admin_token)
    assert step["id"] not in {s["id"] for s in after["scheduledSteps"]}
    assert after["status"] == "running"  # not paused: the step never ran
    created = audit_row(live_gateway, admin_token, "schedule.create", "id", step["id"])
    assert (created["actor"], created["reason"]) == (ADMIN, reason)
    row = audit_row(live_gateway, admin_token, "schedule.cancel", "id", step["id"])
    assert (row["actor"], row["reason"], row["after"]["status"]) == (
        ADMIN,
        cancel_reason,
        "cancelled",
    )
    assert dt.datetime.fromisoformat(row["before"]["run_at"]) == dt.datetime.fromisoformat(
        step["runAt"]
    )
    await screenshot(page, "47-step-cancelled")


async def test_what_waits_in_vietnamese(
    live_gateway, admin_token, second_admin_token, new_page, screenshot
):
    # given: A's pending request and a scheduled step
    before_a_four_eyes_step(live_gateway, admin_token)
    approval_id = ask_for_the_step(live_gateway, admin_token)
    runs = {"runAt": "2099-01-01T23:30:00Z", "reason": "Vietnamese words"}
    step = live_gateway.graphql(admin_token, SCHEDULE, runs)["result"]
    assert step["errors"] == []
    version = rollout(live_gateway, admin_token)["version"]
    first = await rollout_page(new_page, admin_token, version)
    second = await rollout_page(new_page, second_admin_token, version)
    # when
    for page in (first, second):
        await page.locator("#lang").select_option("vi")
        await page.get_by_role("heading", name="Chờ phê duyệt").wait_for()
    # then: A withdraws, B approves or rejects, both may cancel the step, in the province's time
    mine = first.locator(f"#approvals li[data-approval='{approval_id}']")
    theirs = second.locator(f"#approvals li[data-approval='{approval_id}']")
    await expect(mine.locator("button")).to_have_text(["Rút đề nghị"])
    await expect(theirs.locator("button")).to_have_text(["Phê duyệt", "Từ chối"])
    for page in (first, second):
        item = page.locator(f"#scheduled li[data-step='{step['id']}']")
        await expect(item.locator("button")).to_have_text(["Huỷ bước"])
        await expect(item).to_have_text(
            f"Tạm dừng lúc 06:30 2/1/99 GMT+7 (do {ADMIN} lên lịch) — Vietnamese words Huỷ bước"
        )
        label = page.locator("label[for=schedule-at]")
        assert await label.inner_text() == "Thời điểm (giờ Asia/Ho_Chi_Minh)"
    await screenshot(second, "48-waiting-vi")
    await theirs.get_by_role("button", name="Từ chối").click()
    dialog = second.get_by_role("dialog")
    assert await dialog.locator("#confirm-title").inner_text() == "Từ chối"
    assert (await dialog.locator("#confirm-body").inner_text()).startswith(
        f"Từ chối đề nghị của {ADMIN}: tới đợt "
    )
    assert await dialog.get_by_label("Lý do (ghi vào nhật ký)").count() == 1
    await screenshot(second, "49-reject-dialog-vi")
    await dialog.get_by_role("button", name="Huỷ").click()
    # the request and the step are taken back (the dialog above changed nothing)
    after = rollout(live_gateway, admin_token)
    assert approval_id in {a["id"] for a in after["pendingApprovals"]}
    withdrawn = live_gateway.graphql(admin_token, WITHDRAW, {"id": approval_id})
    assert withdrawn["result"]["errors"] == []
    cancelled = live_gateway.graphql(admin_token, CANCEL, {"id": step["id"]})
    assert cancelled["result"]["errors"] == []
