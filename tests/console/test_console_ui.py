"""The console's shell in Chromium: the skip link, an expired token, the menu per role, the audit
filters, the language of the chrome and the phone header."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.console.conftest import filter_audit, sign_in

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.async_api").expect

TOKEN_KEY = "pilotgraph.console.token"
LABELS = "data.labels.length"
DATASETS = "data.datasets.length"


async def test_the_skip_link_moves_focus_to_the_content_and_keeps_the_view(admin_token, new_page):
    # given the audit view
    page = await new_page()
    await sign_in(page, admin_token, view="audit")
    await page.locator("main[data-ready=audit]").wait_for()
    # when
    await page.locator(".skip").focus()
    await page.keyboard.press("Enter")
    # then
    await expect(page.locator("main")).to_be_focused()
    assert await page.evaluate("location.hash") == "#/audit"
    assert await page.locator("main h1").inner_text() == "Audit log"


async def test_a_token_that_expires_mid_session_leads_back_to_sign_in_saying_why(
    admin_token, new_page
):
    # given a signed-in admin whose token the gateway no longer accepts
    page = await new_page()
    await sign_in(page, admin_token)
    await page.locator("main[data-ready=province]").wait_for()
    await page.evaluate(f"sessionStorage.setItem('{TOKEN_KEY}', 'expired.token.value')")
    # when
    await page.locator("#nav a[data-view=adoption]").click()
    # then
    alert = page.locator("#signin [role=alert]")
    await alert.wait_for()
    assert await alert.inner_text() == "Your session has expired. Sign in again."
    assert await page.locator("#nav").is_hidden()
    assert await page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


async def test_a_tenant_admin_sees_their_district_and_only_the_views_they_may_use(
    live_gateway, new_page
):
    # given
    page = await new_page()
    tenant_admin = live_gateway.token("--role", "tenant_admin", "--tenant", "yen-mo")
    # when
    await sign_in(page, tenant_admin, view="district")
    await page.locator("main[data-ready=district]").wait_for()
    # then
    assert await page.locator("main h1").inner_text() == "District: Đảng bộ huyện Yên Mô"
    visible = page.locator("#nav a:not([hidden])")
    assert await visible.all_inner_texts() == ["District", "Adoption"]


@pytest.mark.parametrize(("lang", "label"), [("vi", "Các mục"), ("en", "Views")])
async def test_the_menu_is_labelled_in_the_chosen_language(admin_token, new_page, lang, label):
    # given
    page = await new_page()
    await sign_in(page, admin_token)
    # when
    await page.locator("#lang").select_option(lang)
    # then
    await expect(page.locator("#nav")).to_have_attribute("aria-label", label)


async def test_the_audit_filters_match_part_of_an_actor_and_an_action(admin_token, new_page):
    # given
    page = await new_page()
    await sign_in(page, admin_token, view="audit")
    await page.locator("#audit-table").wait_for()
    # when any case, any part of the actor, and one action
    await filter_audit(page, {"Actor": "DEM", "Action": "plan.create"})
    # then
    rows = page.locator("#audit-table tbody tr")
    await expect(rows).to_have_count(1)
    assert await rows.first.locator("td").nth(1).inner_text() == "demo"
    assert await rows.first.locator(".action").inner_text() == "Plan created"
    assert (
        "Yên Mô pilot (Đảng bộ huyện Yên Mô): 100%"
        in await rows.first.locator(".change").inner_text()
    )
    await expect(page.get_by_role("button", name="Filter")).to_be_focused()


async def test_the_audit_tenant_filter_includes_the_plan_steps_that_changed_it(
    admin_token, new_page
):
    # given
    page = await new_page()
    await sign_in(page, admin_token, view="audit")
    await page.locator("#audit-table").wait_for()
    # when
    await filter_audit(page, {"Tenant": "yen-mo"})
    # then the start of the plan turned Yen Mo on, though its row names no tenant (another test
    # of the shared gateway may have started the plan again: each start is listed)
    started = page.locator("#audit-table tbody tr", has_text="Plan started")
    await expect(started.first).to_be_visible()
    changes = await started.locator(".change").all_inner_texts()
    assert "Đảng bộ huyện Yên Mô: 0% → 100%" in changes, changes
    await filter_audit(page, {"Tenant": "nho-quan"})
    await expect(page.locator("#audit-table tbody tr", has_text="Plan started")).to_have_count(0)


CREATED = """query { rollout(flag: "handbook") { timeZone }
  rolloutAudit(flag: "handbook", action: "plan.create") { at } }"""


async def test_the_audit_days_and_times_are_the_provinces(live_gateway, admin_token, new_page):
    # given: the plan's creation, its day in the province's zone (the browser's zone is UTC)
    read = live_gateway.graphql(admin_token, CREATED)
    zone = ZoneInfo(read["rollout"]["timeZone"])
    [created] = read["rolloutAudit"]
    at = dt.datetime.fromisoformat(created["at"]).astimezone(zone)
    assert at.date() != dt.datetime.fromisoformat(created["at"]).astimezone(dt.UTC).date()
    page = await new_page()
    await sign_in(page, admin_token, view="audit")
    await page.locator("#audit-table").wait_for()
    rows = page.locator("#audit-table tbody tr", has_text="Plan created")
    for day, shown in ((at.date() - dt.timedelta(days=1), 0), (at.date(), 1)):
        # when the filter is that one day, in the province
        await filter_audit(page, {"From": day.isoformat(), "To": day.isoformat()})
        # then the row is found on its province day only, its time shown as the province's
        await expect(rows).to_have_count(shown)
    wall = at.strftime("%d/%m/%Y, %H:%M")
    assert await rows.first.locator("td").first.inner_text() == f"{wall} GMT+7"


async def test_the_adoption_filters_narrow_the_charts_and_the_servers_csv(admin_token, new_page):
    # given
    page = await new_page()
    await sign_in(page, admin_token, view="adoption")
    await page.locator("main[data-ready=adoption]").wait_for()
    # when
    await page.get_by_label("Time range", exact=True).select_option("3")
    await page.wait_for_function(f"() => Chart.getChart('chart-activation')?.{LABELS} === 3")
    await page.get_by_label("District", exact=True).select_option("kim-son")
    await page.wait_for_function(f"() => Chart.getChart('chart-activation')?.{DATASETS} === 1")
    await page.locator("main[data-ready=adoption]").wait_for()
    # then the changed filter keeps the focus, and the CSV is the server's for Kim Son, 3 months
    await expect(page.get_by_label("District", exact=True)).to_be_focused()
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download CSV").click()
    download = await download_info.value
    lines = (await download.path()).read_text().splitlines()
    assert lines[0].startswith("tenant,start,end,members,installs,")
    assert [line.split(",")[0] for line in lines[1:]] == ["kim-son"] * 3
    await expect(page.get_by_role("button", name="Download CSV")).to_be_focused()
    labels = await page.evaluate("Chart.getChart('chart-activation').data.labels")
    assert len(labels) == 3
    assert labels[-1].endswith("*")  # the current, partial month is marked
    assert "*" not in labels[0]
    assert await page.evaluate("Chart.getChart('chart-activation').data.datasets.length") == 1
