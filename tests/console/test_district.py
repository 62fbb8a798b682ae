"""A tenant admin's district view in Chromium: their state, their adoption, their ramp.

Runs on the shared demo gateway: each test brings the plan to a running state through the API
first and puts Yên Mô's ramp back at what its wave has when it is done.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.console.conftest import sign_in
from tests.console.test_plan_safety import running_with_two_rollbacks

pytestmark = pytest.mark.slow

ROLLOUT = """query { rollout(flag: "handbook") { version
  tenants { tenant wave percentage state } waves { position ramp } } }"""
ADOPTION = """query($from: Date!, $to: Date!) {
  adoption(tenant: "yen-mo", from: $from, to: $to, granularity: MONTH)
  { points { start members activationRate activeMembers uses } } }"""
PAUSE = (
    """mutation { result: pauseRollout(flag: "handbook", reason: "check") { errors { code } } }"""
)
RESUME = (
    """mutation { result: resumeRollout(flag: "handbook", reason: "Ok") { errors { code } } }"""
)
RAMP = """mutation($percentage: Float!) { result: setTenantRamp(flag: "handbook",
  percentage: $percentage, reason: "restore") { errors { code } } }"""


@pytest.fixture(scope="module")
def yen_mo_admin_token(live_gateway) -> str:
    return live_gateway.token("--role", "tenant_admin", "--tenant", "yen-mo")


@pytest.fixture
def running_plan(live_gateway, admin_token, yen_mo_admin_token):
    """The plan running past the pilot (Yên Mô's wave at 100%); Yên Mô's ramp restored after."""
    running_with_two_rollbacks(live_gateway, admin_token)
    yield live_gateway.graphql(admin_token, ROLLOUT)["rollout"]
    restore = live_gateway.graphql(yen_mo_admin_token, RAMP, {"percentage": 100.0})
    assert restore["result"]["errors"] == []


def yen_mo(rollout: dict) -> dict:
    return next(s for s in rollout["tenants"] if s["tenant"] == "yen-mo")


def percent(rate: float) -> str:
    """As the console shows a rate in English (Intl, at most one decimal)."""
    value = (Decimal(str(rate)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value.normalize():f}%"


def six_months() -> dict[str, str]:
    """The console's adoption window: the first of the month five months ago, to today."""
    today = dt.date.today()
    month = today.year * 12 + today.month - 1 - 5
    return {"from": dt.date(month // 12, month % 12 + 1, 1).isoformat(), "to": today.isoformat()}


async def test_the_district_view_shows_its_state_and_the_adoption_querys_figures(
    live_gateway, admin_token, yen_mo_admin_token, running_plan, new_page, screenshot
):
    # given
    expected = yen_mo(running_plan)
    [*_, last] = live_gateway.graphql(admin_token, ADOPTION, six_months())["adoption"]["points"]
    page = await new_page()
    # when
    await sign_in(page, yen_mo_admin_token, view="district")
    await page.locator("main[data-ready=district]").wait_for()
    # then
    assert await page.locator("main h1").inner_text() == "District: Đảng bộ huyện Yên Mô"
    state = page.locator("#district-state")
    assert await state.locator(".wave-name").inner_text() == "Yên Mô pilot"
    assert await state.locator(".state").inner_text() == "On"
    assert await state.locator(".percentage").inner_text() == f"{expected['percentage']:g}%"
    assert expected["percentage"] == 100.0
    figures = page.locator("#district-adoption")
    assert await figures.locator(".members").inner_text() == f"{last['members']:,}"
    assert await figures.locator(".activation").inner_text() == percent(last["activationRate"])
    assert await figures.locator(".mam").inner_text() == f"{last['activeMembers']:,}"
    assert await figures.locator(".uses").inner_text() == f"{last['uses']:,}"
    assert last["activeMembers"] > 0
    help_text = await page.locator("#ramp-help").inner_text()
    assert "0% up to 100%" in help_text
    await screenshot(page, "30-district-tenant-admin")


async def test_the_ramp_control_changes_the_districts_ramp(
    live_gateway, admin_token, yen_mo_admin_token, running_plan, new_page
):
    # given
    page = await new_page()
    await sign_in(page, yen_mo_admin_token, view="district")
    await page.locator("#ramp-form").wait_for()
    # when
    await page.get_by_label("Share on (%)").fill("40")
    await page.get_by_label("Reason (audited)").fill("Training the branches first")
    await page.get_by_role("button", name="Save share").click()
    # then
    result = page.locator("#ramp-result .message.ok")
    await result.wait_for()
    assert await result.inner_text() == "Saved: on for 40% of your district's members."
    await page.locator("#district-state .percentage", has_text="40%").wait_for()
    assert await page.locator("#district-state .state").inner_text() == "Partly on"
    assert yen_mo(live_gateway.graphql(admin_token, ROLLOUT)["rollout"])["percentage"] == 40.0
    assert await page.evaluate("document.activeElement.id") == "ramp-result"


async def test_a_stale_version_says_the_plan_changed_in_vietnamese_and_shows_the_new_state(
    live_gateway, admin_token, yen_mo_admin_token, running_plan, new_page, screenshot
):
    # given: the tenant admin sees a version; the province pauses and resumes meanwhile
    page = await new_page()
    await sign_in(page, yen_mo_admin_token, view="district")
    await page.locator("#lang").select_option("vi")
    seen = running_plan["version"]
    await page.locator(f"#district-status[data-version='{seen}']").wait_for()
    for step in (PAUSE, RESUME):
        assert live_gateway.graphql(admin_token, step)["result"]["errors"] == []
    # when
    await page.get_by_label("Tỷ lệ bật (%)").fill("30")
    await page.get_by_label("Lý do (ghi vào nhật ký)").fill("Chậm lại")
    await page.get_by_role("button", name="Lưu tỷ lệ").click()
    # then: refused, said in Vietnamese, the new version shown, the ramp unchanged
    alert = page.locator("#ramp-result [role=alert]")
    await alert.wait_for()
    assert (await alert.inner_text()).startswith("Kế hoạch đã thay đổi")
    await page.locator(f"#district-status[data-version='{seen + 2}']").wait_for()
    assert yen_mo(live_gateway.graphql(admin_token, ROLLOUT)["rollout"])["percentage"] == 100.0
    assert await page.locator("#district-state .percentage").inner_text() == "100%"
    await screenshot(page, "31-district-plan-changed-vi")


async def test_a_tenant_admins_menu_holds_only_their_district_and_adoption(
    yen_mo_admin_token, new_page
):
    # given
    page = await new_page()
    # when
    await sign_in(page, yen_mo_admin_token, view="district")
    await page.locator("main[data-ready=district]").wait_for()
    # then
    visible = page.locator("#nav a:not([hidden])")
    assert await visible.all_inner_texts() == ["District", "Adoption"]
    await page.locator("#lang").select_option("vi")
    await page.locator("main[data-ready=district]").wait_for()
    assert await visible.all_inner_texts() == ["Đơn vị", "Mức độ sử dụng"]
    assert await page.locator("main h1").inner_text() == "Đơn vị: Đảng bộ huyện Yên Mô"
