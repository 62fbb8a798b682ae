"""The admin console in Chromium against a live gateway with the demo province.

The tests run in file order and tell one story: refusal, sign-in, the province (the demo's
wave 1 ramped to 100% since it started), wave 1 rolled back to the pilot and rolled out again,
a province-wide step approved by a second admin, the audit log, adoption, Vietnamese.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.console.conftest import SECOND_ADMIN, filter_audit, sign_in

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.async_api").expect

ADVANCE = """mutation { advanceRollout(flag: "handbook") { applied errors { code message } } }"""
PAUSE = """mutation { result: pauseRollout(flag: "handbook", reason: "Hold") { errors { code } }}"""
RESUME = """mutation { result: resumeRollout(flag: "handbook", reason: "Ok") { errors { code } }}"""
TO_THE_PILOT = """mutation { result: rollbackRollout(flag: "handbook", reason: "Incident drill",
  toWave: 0, toStep: 0) { applied wave step errors { code } } }"""
WAVE_1_TENANTS = ("hoa-lu", "kim-son", "ninh-binh-city")
ALL_TENANTS = (
    *("ninh-binh-city", "tam-diep-city", "nho-quan", "gia-vien", "hoa-lu", "yen-khanh"),
    *("kim-son", "yen-mo", "police", "military", "agencies", "enterprises"),
)
SERVER_CSV_HEADER = (
    "tenant,start,end,members,installs,activated_members,activation_rate,new_installs,"
    "new_activations,active_members,uses,stickiness"
)


@pytest.fixture(scope="module")
def second_admin_token(live_gateway) -> str:
    return live_gateway.token("--role", "province_admin", "--member", SECOND_ADMIN)


async def test_a_member_is_refused_with_a_clear_page(live_gateway, new_page, screenshot):
    # given
    page = await new_page()
    member = live_gateway.token("--role", "member", "--tenant", "yen-mo")
    # when
    await sign_in(page, member)
    # then
    refused = page.locator("#refused")
    await refused.get_by_role("heading", name="Access refused").wait_for()
    assert "province admins, tenant admins and auditors" in await refused.inner_text()
    assert await page.locator("#nav").is_hidden()
    await screenshot(page, "01-refused")


async def test_a_bad_token_is_refused_in_plain_words(new_page):
    # given
    page = await new_page()
    # when
    await sign_in(page, "not-a-token")
    # then
    alert = page.locator("#signin [role=alert]")
    await alert.wait_for()
    assert await alert.inner_text() == "The token is not valid or has expired."


async def test_the_province_admin_sees_yen_mo_as_the_pilot_above_90_percent(
    admin_token, new_page, screenshot
):
    # given
    page = await new_page()
    # when
    await sign_in(page, admin_token)
    # then
    yen_mo = page.locator("#province-table tr[data-tenant=yen-mo]")
    await yen_mo.wait_for()
    assert "Yên Mô" in await yen_mo.locator("th").inner_text()
    assert await yen_mo.locator(".badge.pilot").inner_text() == "Pilot"
    assert await yen_mo.locator(".state").inner_text() == "On"
    activation = await yen_mo.locator(".activation").inner_text()
    assert float(activation.rstrip("%")) > 90
    assert await yen_mo.locator("canvas").count() == 1
    for slug in WAVE_1_TENANTS:  # the demo's wave 1 ramped to 100%, its members activating
        row = page.locator(f"#province-table tr[data-tenant={slug}]")
        assert await row.locator(".badge").inner_text() == "Wave 1"
        assert await row.locator(".state").inner_text() == "On"
        assert 0 < float((await row.locator(".activation").inner_text()).rstrip("%")) < 90
    assert await page.locator("#province-table tbody tr").count() == 12
    await screenshot(page, "02-province")


async def test_the_vietnamese_switch_translates_the_console(admin_token, new_page, screenshot):
    # given
    page = await new_page()
    await sign_in(page, admin_token)
    await page.locator("#province-table").wait_for()
    # when
    await page.get_by_label("Language").select_option("vi")
    # then
    await page.get_by_role("heading", name="Toàn tỉnh").wait_for()
    assert await page.locator("html").get_attribute("lang") == "vi"
    assert await page.get_by_role("link", name="Nhật ký").is_visible()
    yen_mo = page.locator("#province-table tr[data-tenant=yen-mo]")
    assert await yen_mo.locator(".badge.pilot").inner_text() == "Thí điểm"
    assert await yen_mo.locator(".state").inner_text() == "Đang bật"
    await screenshot(page, "03-province-vi")
    await page.get_by_label("Ngôn ngữ").select_option("en")
    await page.get_by_role("heading", name="Province").wait_for()


async def test_the_admin_advances_wave_1_whose_gate_passes(
    live_gateway, admin_token, new_page, screenshot
):
    # given wave 1 rolled back to the pilot (the demo has it at 100%)
    back = live_gateway.graphql(admin_token, TO_THE_PILOT)["result"]
    assert (back["applied"], back["wave"], back["step"], back["errors"]) == (True, 0, 0, [])
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    wave_1 = page.locator("section.wave[data-wave='1']")
    await wave_1.wait_for()
    assert await wave_1.locator(".verdict").inner_text() == "Passes"
    await screenshot(page, "04-rollout-before")
    # when
    await page.get_by_role("button", name="Advance").click()
    dialog = page.get_by_role("dialog")
    await dialog.wait_for()
    text = await dialog.inner_text()
    await screenshot(page, "05-rollout-confirm")
    await dialog.get_by_role("button", name="Confirm").click()
    # then
    assert re.search(r"wave 1 \(Hoa Lư, Ninh Bình city, Kim Sơn\) at 25%", text)
    assert re.search(r"about [\d,.]+ members in 3 tenants get the handbook", text)
    await page.locator("#action-result .message.ok").wait_for()
    assert await page.locator("#rollout-status").inner_text() == "Status: running; wave 1, step 1"
    assert await page.locator("section.wave.current").get_attribute("data-wave") == "1"
    await screenshot(page, "06-rollout-after")
    await page.get_by_role("link", name="Province").click()
    kim_son = page.locator("#province-table tr[data-tenant=kim-son]")
    await kim_son.wait_for()
    assert await kim_son.locator(".state").inner_text() == "Partly on"


async def test_the_audit_log_shows_the_advance(admin_token, new_page, screenshot):
    # given
    page = await new_page()
    await sign_in(page, admin_token, view="audit")
    await page.locator("#audit-table").wait_for()
    # when
    await filter_audit(page, {"Actor": "province_admin@province"})
    # then: the advance, newest first, then the rollback to the pilot before it
    first = page.locator("#audit-table tbody tr").first
    await expect(page.locator("#audit-table tbody tr")).to_have_count(2)
    assert await first.locator(".action").inner_text() == "Advanced a step"
    assert await first.locator(".action").get_attribute("title") == "plan.advance"
    wave_1 = "Đảng bộ huyện Hoa Lư, Đảng bộ huyện Kim Sơn, Đảng bộ thành phố Ninh Bình"
    assert await first.locator(".change").inner_text() == f"{wave_1}: 0% → 25%"
    rollback = page.locator("#audit-table tbody tr").nth(1)
    assert await rollback.locator(".action").inner_text() == "Rolled back"
    assert await rollback.locator(".change").inner_text() == f"{wave_1}: 100% → 0%"
    await screenshot(page, "07-audit")


async def test_a_second_admin_approves_a_province_wide_step(
    live_gateway, admin_token, second_admin_token, new_page, screenshot
):
    # given wave 1 at 100%, the first admin asks for the province-wide wave
    for _ in range(2):
        assert live_gateway.graphql(admin_token, ADVANCE)["advanceRollout"]["applied"]
    first = await new_page()
    await sign_in(first, admin_token, view="rollout")
    await first.locator("#rollout-status", has_text="wave 1, step 3").wait_for()
    await first.get_by_role("button", name="Advance").click()
    dialog = first.get_by_role("dialog")
    assert "needs a second province admin's approval" in await dialog.inner_text()
    if await dialog.get_by_label("Reason to override the failing gate").count():
        await dialog.get_by_label("Reason to override the failing gate").fill("Province decision")
    await dialog.get_by_role("button", name="Confirm").click()
    await first.locator("#action-result", has_text="waiting for another province admin").wait_for()
    assert await first.locator("#approvals li button.approve").count() == 0  # not one's own
    # when the second admin approves it
    second = await new_page()
    await sign_in(second, second_admin_token, view="rollout")
    request = second.locator("#approvals li", has_text="province_admin@province asked")
    await request.wait_for()
    await screenshot(second, "08-approval-pending")
    await request.get_by_role("button", name="Approve").click()
    await second.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    # then the rollout moves, for both admins (the first without a reload)
    await second.locator("#rollout-status", has_text="wave 2, step 1").wait_for()
    await second.locator("#approvals-empty").wait_for()
    await screenshot(second, "09-approved")
    await first.locator("#rollout-status", has_text="wave 2, step 1").wait_for(timeout=15_000)
    assert "The rollout just changed" in await first.locator("#live").inner_text()
    assert await first.locator("#live").get_attribute("data-via") == "push"  # not polled
    await screenshot(first, "10-live-update")


async def test_the_adoption_view_draws_charts_and_offers_csv(admin_token, new_page, screenshot):
    # given
    page = await new_page()
    # when
    await sign_in(page, admin_token, view="adoption")
    await page.locator("#chart-activation").wait_for()
    # then
    assert await page.locator(".charts canvas").count() == 4
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download CSV").click()
    download = await download_info.value
    csv = (await download.path()).read_text() if await download.path() else ""
    lines = csv.splitlines()
    assert lines[0] == SERVER_CSV_HEADER  # the gateway's /v1/adoption.csv, not a browser-built one
    assert {line.split(",")[0] for line in lines[1:]} == set(ALL_TENANTS)
    assert len(lines) == 1 + 6 * len(ALL_TENANTS)  # six months of each tenant
    await screenshot(page, "11-adoption")


async def test_an_auditor_reads_the_province_and_rollout_without_controls(
    live_gateway, new_page, screenshot
):
    # given
    page = await new_page()
    auditor = live_gateway.token("--role", "auditor")
    # when
    await sign_in(page, auditor)
    # then
    yen_mo = page.locator("#province-table tr[data-tenant=yen-mo]")
    await yen_mo.wait_for()
    assert float((await yen_mo.locator(".activation").inner_text()).rstrip("%")) > 90
    assert "Pilot" in await yen_mo.locator("td").first.inner_text()
    await page.get_by_role("link", name="Rollout").click()
    read_only = page.locator("main [role=status]", has_text="You may only read")
    await read_only.wait_for()
    assert await page.get_by_role("button", name="Advance").count() == 0
    await screenshot(page, "12-auditor")


async def test_the_live_stream_announces_a_pause_and_a_resume(live_gateway, admin_token):
    # given a console's event stream
    headers = {"Authorization": f"Bearer {admin_token}"}
    events: list[str] = []
    async with (
        httpx.AsyncClient(base_url=live_gateway.url, timeout=60) as client,
        client.stream("GET", "/admin/api/events", headers=headers) as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert await anext(lines) == "event: ready"
        # when another admin pauses and resumes the plan
        for mutation in (PAUSE, RESUME):
            response = await client.post("/graphql", json={"query": mutation}, headers=headers)
            assert response.json()["data"]["result"]["errors"] == []
        # then the stream says so twice
        async for line in lines:
            if line.startswith("event: "):
                events.append(line)
            if len(events) == 2:
                break
    assert events == ["event: rollout", "event: rollout"]


async def test_an_api_error_is_shown_in_plain_words(live_gateway, admin_token, new_page):
    # given a page left open while the plan gets paused elsewhere
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    await page.locator("#rollout-status", has_text="running").wait_for()
    assert live_gateway.graphql(admin_token, PAUSE)["result"]["errors"] == []
    # when
    await page.get_by_role("button", name="Advance").click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    # then: the page acted on the version it showed, which the pause left behind
    alert = page.locator("#action-result [role=alert]")
    await alert.wait_for()
    assert await alert.inner_text() == (
        "The plan has changed: another admin acted meanwhile. Nothing was done; here is its new"
        " state."
    )
    await page.locator("#rollout-status", has_text="paused").wait_for()
    assert live_gateway.graphql(admin_token, RESUME)["result"]["errors"] == []


async def test_the_admin_schedules_a_step(admin_token, new_page, screenshot):
    # given
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    await page.locator("#scheduled-empty").wait_for()
    # when
    await page.get_by_label("Action to schedule").select_option("PAUSE")
    await page.get_by_label("When").fill("2099-01-02T09:30")
    await page.locator("#schedule-form").get_by_label("Reason (audited)").fill("Tet holiday")
    await page.get_by_role("button", name="Schedule").click()
    # then
    item = page.locator("#scheduled li")
    await item.wait_for()
    assert "Pause at 02/01/2099, 09:30 GMT+7 (scheduled by province_admin@province)" in (
        await item.inner_text()
    )
    assert "Tet holiday" in await item.inner_text()
    await screenshot(page, "13-scheduled")


async def test_a_tenant_admin_sees_only_their_own_tenant(live_gateway, new_page, screenshot):
    # given
    page = await new_page()
    tenant_admin = live_gateway.token("--role", "tenant_admin", "--tenant", "kim-son")
    # when
    await sign_in(page, tenant_admin, view="district")
    # then
    await page.locator("main[data-ready=district]").wait_for()
    assert await page.locator("main h1").inner_text() == "District: Đảng bộ huyện Kim Sơn"
    assert await page.locator("#province-table").count() == 0
    assert "Tenant admin · kim-son" in await page.locator("#who").inner_text()
    await page.get_by_role("link", name="Adoption").click()
    await page.locator("#chart-activation").wait_for()
    assert await page.locator("#chart-waves").count() == 0
    await screenshot(page, "14-tenant-admin-adoption")
