"""The rollout page in Chromium when two province admins act at once, and its emergency stop.

Runs on the shared demo gateway after ``test_console.py``: each test reads the plan's state first
and brings it where it needs it through the API.
"""

from __future__ import annotations

import pytest

from tests.console.conftest import SECOND_ADMIN, sign_in

pytestmark = pytest.mark.slow

STATE = """query { rollout(flag: "handbook") { status wave step version flagState
  nextSteps { action wave step } } }"""
RESUME = """mutation { result: resumeRollout(flag: "handbook", reason: "Ok") { errors { code } }}"""
ADVANCE = """mutation { result: advanceRollout(flag: "handbook", overrideReason: "test")
  { applied errors { code } } }"""
START = """mutation { result: startRollout(flag: "handbook") { applied errors { code } } }"""
ROLLBACKS = """query { rolloutAudit(flag: "handbook", action: "plan.rollback", first: 200)
  { at } }"""
CHANGED = "The plan has changed: another admin acted meanwhile."


@pytest.fixture(scope="module")
def second_admin_token(live_gateway) -> str:
    return live_gateway.token("--role", "province_admin", "--member", SECOND_ADMIN)


def running_with_two_rollbacks(live_gateway, token) -> dict:
    """The plan running (or completed) at wave 1 or later: two earlier steps to go back to."""
    state = live_gateway.graphql(token, STATE)["rollout"]
    if state["status"] == "paused":
        assert live_gateway.graphql(token, RESUME)["result"]["errors"] == []
    for _ in range(4):
        state = live_gateway.graphql(token, STATE)["rollout"]
        if state["wave"] >= 1 and state["status"] in ("running", "completed"):
            break
        step = START if state["status"] == "draft" else ADVANCE  # rolled back before the start
        assert live_gateway.graphql(token, step)["result"]["errors"] == []
    return live_gateway.graphql(token, STATE)["rollout"]


async def test_two_admins_roll_back_at_once_only_one_rollback_applies(
    live_gateway, admin_token, second_admin_token, new_page, screenshot
):
    # given: both admins see the same version; A opens "Roll back"
    before = running_with_two_rollbacks(live_gateway, admin_token)
    rollbacks = len(live_gateway.graphql(admin_token, ROLLBACKS)["rolloutAudit"])
    first, second = await new_page(), await new_page()
    for page, token in ((first, admin_token), (second, second_admin_token)):
        await sign_in(page, token, view="rollout")
        await page.locator(f"#rollout-status[data-version='{before['version']}']").wait_for()
    await first.locator("#action-rollback").click()
    dialog_a = first.get_by_role("dialog")
    await dialog_a.get_by_label("Reason (audited)").fill("A's rollback")
    # when: B rolls back meanwhile
    await second.locator("#action-rollback").click()
    dialog_b = second.get_by_role("dialog")
    await dialog_b.get_by_label("Reason (audited)").fill("B's rollback")
    await dialog_b.get_by_role("button", name="Confirm").click()
    await second.locator("#action-result .message.ok").wait_for()
    # then: A's open dialog says the plan changed (live banner), and A's confirmation is refused
    await dialog_a.locator(".plan-changed").wait_for(timeout=15_000)
    await screenshot(first, "20-rollback-dialog-plan-changed")
    await dialog_a.get_by_role("button", name="Confirm").click()
    alert = first.locator("#action-result [role=alert]")
    await alert.wait_for()
    assert CHANGED in await alert.inner_text()
    after = live_gateway.graphql(admin_token, STATE)["rollout"]
    assert after["version"] == before["version"] + 1
    await first.locator(f"#rollout-status[data-version='{after['version']}']").wait_for()
    assert len(live_gateway.graphql(admin_token, ROLLBACKS)["rolloutAudit"]) == rollbacks + 1
    await screenshot(first, "21-rollback-refused-new-state")


async def test_the_emergency_stop_turns_the_flag_off_and_back_on(
    live_gateway, admin_token, new_page, screenshot
):
    # given
    running_with_two_rollbacks(live_gateway, admin_token)
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    # when
    await page.get_by_role("button", name="Turn off now across the province").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Reason (audited)").fill("Data leak reported")
    await dialog.get_by_role("button", name="Confirm").click()
    # then
    await page.locator("#emergency-result .message.ok").wait_for()
    assert "OFF across the province" in await page.locator("#emergency").inner_text()
    assert live_gateway.graphql(admin_token, STATE)["rollout"]["flagState"] == "killed"
    await screenshot(page, "22-emergency-stop")
    await page.get_by_role("button", name="Turn back on").click()
    await dialog.get_by_label("Reason (audited)").fill("Fixed")
    await dialog.get_by_role("button", name="Confirm").click()
    await page.locator("#action-kill").wait_for()
    assert live_gateway.graphql(admin_token, STATE)["rollout"]["flagState"] == "active"


async def test_roll_back_to_a_chosen_step_from_the_api_list(live_gateway, admin_token, new_page):
    # given
    before = running_with_two_rollbacks(live_gateway, admin_token)
    target = [o for o in before["nextSteps"] if o["action"] == "rollback"][-1]  # nothing on
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    # when
    await page.locator("#rollback-target").wait_for()
    options = page.locator("#rollback-target option")
    await page.locator("#rollback-target").select_option(str(await options.count() - 1))
    await page.get_by_role("button", name="Roll back to…").click()
    dialog = page.get_by_role("dialog")
    assert "Roll back to on for no tenant" in await dialog.inner_text()
    await dialog.get_by_label("Reason (audited)").fill("Start over")
    await dialog.get_by_role("button", name="Confirm").click()
    # then
    await page.locator("#action-result .message.ok").wait_for()
    after = live_gateway.graphql(admin_token, STATE)["rollout"]
    assert (after["wave"], after["step"]) == (target["wave"], target["step"]) == (-1, -1)


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_the_rollout_page_in_both_languages(
    live_gateway, admin_token, new_page, screenshot, language
):
    # given
    running_with_two_rollbacks(live_gateway, admin_token)
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    # when
    await page.locator("#lang").select_option(language)
    await page.locator("#timeline li.current").wait_for()
    # then
    title = {"vi": "Tiến trình các đợt", "en": "Wave timeline"}[language]
    assert title in await page.locator("#timeline").inner_text()
    kill = {"vi": "Tắt ngay trên toàn tỉnh", "en": "Turn off now across the province"}[language]
    assert await page.get_by_role("button", name=kill).count() == 1
    await screenshot(page, f"23-rollout-{language}")
