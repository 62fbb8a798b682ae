"""The guardrail's notices and threshold in the console, in Chromium against the live demo gateway.

The notice is made as in production: the guardrail judges the running plan, here with weekly
active members the test chooses (Yen Mo's halved), pauses the plan as ``system`` and writes the
notice. The plan is resumed and its threshold reset when the module is done.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from db.engine import make_engine
from db.sessions import make_sessionmaker
from rollout import guardrail, notices, plans
from rollout.guardrail import Outcome, Policy
from rollout.kpi import WeeklyActive
from rollout.models import NoticeKind
from tests.console.conftest import sign_in
from tests.rollout.guardrail_world import CountingKpis

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.async_api").expect

NOTICES = """query { rolloutNotices(flag: "handbook") {
  id kind wave message figures acknowledgedAt acknowledgedBy } }"""
ROLLOUT = """query { rollout(flag: "handbook") { status guardrailDrop } }"""
AUDIT = """query { rolloutAudit(flag: "handbook", action: "plan.guardrail", first: 1) {
  actor after reason } }"""
RESUME = """mutation { result: resumeRollout(flag: "handbook", reason: "Checked") {
  errors { code } } }"""
DEFAULT_GUARDRAIL = """mutation { result: setRolloutGuardrail(flag: "handbook", reason: "Reset") {
  errors { code } } }"""
YEN_MO_HALVED = {"yen-mo": WeeklyActive(recent=2_600, earlier=5_200)}
FELL = "(yen-mo) fell 50.0% (5,200 → 2,600)"
# the notice in words, built by the console from its figures (the server's text on hover)
PAUSED = (
    "The Party-member handbook plan paused itself: weekly active members of Pilot fell from 5,200 "
    "to 2,600 "
    "(-50%), beyond the 30% threshold."
)
PAUSED_VI = (
    "Kế hoạch Sổ tay đảng viên tự tạm dừng: đảng viên hoạt động trong tuần của Thí điểm giảm từ "
    "5.200 xuống 2.600 (-50%), vượt ngưỡng 30%."
)
ADMIN = "province_admin@province"


def _database_url(live_gateway) -> str:
    return live_gateway.env["PILOTGRAPH_DATABASE_URL"]


async def _run_guardrail(database_url: str) -> list[tuple[int, Outcome]]:
    """One guardrail check of the live database, with Yen Mo's weekly active members halved."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            checks = await guardrail.check(
                session=session,
                kpis=CountingKpis(weekly=dict(YEN_MO_HALVED)),
                policy=Policy(),
                now=dt.datetime.now(dt.UTC),
            )
    finally:
        await engine.dispose()
    return [(c.wave, c.outcome) for c in checks]


async def _add_notice(database_url: str, message: str) -> str:
    """A notice written straight through the notices service (no guardrail figures)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            view = await plans.get_or_raise(
                session=session, province_id="ninh-binh", flag_key="handbook"
            )
            notice = await notices.add(
                session=session,
                plan=view.plan,
                tenant_ids=["yen-mo"],
                kind=NoticeKind.GUARDRAIL_PAUSE,
                message=message,
                figures={"note": "by hand"},
                now=dt.datetime.now(dt.UTC),
            )
            await session.commit()
            return str(notice.id)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def guardrail_notice(live_gateway, admin_token):
    """The notice of a guardrail pause of the demo plan (running, Yen Mo's pilot started)."""
    outcomes = await _run_guardrail(_database_url(live_gateway))
    assert (0, Outcome.PAUSED) in outcomes
    [notice] = [
        n
        for n in live_gateway.graphql(admin_token, NOTICES)["rolloutNotices"]
        if FELL in n["message"]
    ]
    yield notice
    assert live_gateway.graphql(admin_token, RESUME)["result"]["errors"] == []
    assert live_gateway.graphql(admin_token, DEFAULT_GUARDRAIL)["result"]["errors"] == []


async def test_the_province_admin_acknowledges_a_guardrail_notice(
    live_gateway, admin_token, guardrail_notice, new_page, screenshot
):
    # given the plan paused by the guardrail, and its notice not yet acknowledged
    assert live_gateway.graphql(admin_token, ROLLOUT)["rollout"]["status"] == "paused"
    page = await new_page()
    await sign_in(page, admin_token, view="notices")
    row = page.locator(f"#notices-table tr[data-notice='{guardrail_notice['id']}']")
    await row.wait_for()
    assert await row.get_attribute("class") == "unacknowledged"
    assert await row.locator(".state").inner_text() == "Not acknowledged"
    assert await row.locator(".badge.pilot").inner_text() == "Pilot"
    assert await row.locator(".message-text").inner_text() == PAUSED
    assert FELL in await row.locator(".message-text").get_attribute("title")
    figures = await row.locator(".figures").inner_text()
    assert "Weekly active members: 5,200 → 2,600 (-50%) in the week to " in figures
    assert "threshold 30%" in figures
    assert await row.locator(".figures li").inner_text() == "Đảng bộ huyện Yên Mô: 5,200 → 2,600"
    assert await row.locator(".figures li").get_attribute("title") == "yen-mo"
    await screenshot(page, "16-notice-new")
    # when
    await row.get_by_role("button", name="Acknowledge").click()
    # then
    done = page.locator("#notice-result .message.ok")
    await done.wait_for()
    assert await done.inner_text() == "Notice acknowledged."
    await expect(row).not_to_have_class("unacknowledged")
    assert (await row.locator(".state").inner_text()).startswith(f"Acknowledged by {ADMIN} at ")
    assert await row.get_by_role("button", name="Acknowledge").count() == 0
    [stored] = [
        n
        for n in live_gateway.graphql(admin_token, NOTICES)["rolloutNotices"]
        if n["id"] == guardrail_notice["id"]
    ]
    assert stored["acknowledgedBy"] == ADMIN
    assert stored["acknowledgedAt"] is not None
    await screenshot(page, "17-notice-acknowledged")


@pytest.mark.parametrize(
    ("language", "why", "link"),
    [
        ("en", "The plan is paused. Why: " + PAUSED, "See the notice"),
        ("vi", "Kế hoạch đang tạm dừng. Lý do: " + PAUSED_VI, "Xem thông báo"),
    ],
)
async def test_the_rollout_page_says_why_the_guardrail_paused_and_links_the_notice(
    live_gateway, admin_token, guardrail_notice, new_page, screenshot, language, why, link
):
    # given the plan paused by the guardrail
    assert live_gateway.graphql(admin_token, ROLLOUT)["rollout"]["status"] == "paused"
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    # when
    await page.locator("#lang").select_option(language)
    reason = page.locator("#pause-reason")
    # then: the reason in words, built from the notice's figures, and the way to the notice
    await expect(reason).to_have_text(f"{why} {link}")
    await screenshot(page, f"18-rollout-paused-{language}")
    await reason.get_by_role("link", name=link).click()
    await page.locator("main[data-ready=notices]").wait_for()
    await expect(page.locator(f"tr[data-notice='{guardrail_notice['id']}']")).to_be_visible()


async def test_a_refused_acknowledgment_shows_the_payload_error(
    live_gateway, admin_token, guardrail_notice, new_page
):
    # given a notice whose acknowledgment reaches the server for an id it does not know
    notice_id = await _add_notice(_database_url(live_gateway), "Checked by hand.")
    page = await new_page()

    async def unknown_id(route):
        body = json.loads(route.request.post_data or "{}")
        if body.get("operationName") == "AcknowledgeRolloutNotice":
            body["variables"]["id"] = str(uuid.uuid4())
        await route.continue_(post_data=json.dumps(body))

    await page.route("**/graphql", unknown_id)
    await sign_in(page, admin_token, view="notices")
    row = page.locator(f"#notices-table tr[data-notice='{notice_id}']")
    await row.wait_for()
    # when
    await row.get_by_role("button", name="Acknowledge").click()
    # then
    alert = page.locator("#notice-result [role=alert]")
    await alert.wait_for()
    assert await alert.inner_text() == "There is no rollout notice with this id."
    assert await row.get_attribute("class") == "unacknowledged"
    assert await row.get_by_role("button", name="Acknowledge").is_enabled()
    assert await row.locator("td.change").inner_text() == "note: by hand"  # figures in words


async def test_an_auditor_reads_the_notices_without_acknowledging(
    auditor_token, guardrail_notice, new_page, screenshot
):
    # given
    page = await new_page()
    # when
    await sign_in(page, auditor_token, view="notices")
    # then
    row = page.locator(f"#notices-table tr[data-notice='{guardrail_notice['id']}']")
    await row.wait_for()
    assert await row.locator(".message-text").inner_text() == PAUSED
    assert FELL in await row.locator(".message-text").get_attribute("title")
    assert await page.get_by_role("button", name="Acknowledge").count() == 0
    assert await page.locator("#notices-table thead th").count() == 6  # no actions column
    note = page.locator("main [role=status]", has_text="only province admins acknowledge")
    assert await note.count() == 1
    await page.get_by_role("link", name="Rollout").click()
    await page.locator("#guardrail-threshold").wait_for()
    assert await page.locator("#guardrail-form").count() == 0
    await screenshot(page, "18-notices-auditor")


async def test_a_tenant_admin_may_not_read_the_notices(live_gateway, new_page):
    # given
    page = await new_page()
    tenant_admin = live_gateway.token("--role", "tenant_admin", "--tenant", "kim-son")
    # when
    await sign_in(page, tenant_admin, view="notices")
    # then
    alert = page.locator("#notices-results [role=alert]")
    await alert.wait_for()
    assert await alert.inner_text() == "Your role may not see this."
    assert await page.locator("#notices-table").count() == 0


async def test_the_province_admin_sets_the_guardrail_threshold(
    live_gateway, admin_token, guardrail_notice, new_page, screenshot
):
    # given the plan following the deployment's default
    assert live_gateway.graphql(admin_token, ROLLOUT)["rollout"]["guardrailDrop"] is None
    page = await new_page()
    await sign_in(page, admin_token, view="rollout")
    threshold = page.locator("#guardrail-threshold")
    await threshold.wait_for()
    assert await threshold.inner_text() == (
        "Follows the deployment's default threshold: pauses when weekly active members fall by "
        "more than 30%."
    )
    # when
    await page.get_by_label("Pause after a fall of more than (%)").fill("25")
    await page.locator("#guardrail-form").get_by_label("Reason (audited)").fill("Harvest season")
    await page.get_by_role("button", name="Save threshold").click()
    # then
    await page.locator("#guardrail-result .message.ok", has_text="Threshold saved.").wait_for()
    assert await page.locator("#guardrail-threshold").inner_text() == (
        "The plan pauses itself when a started wave's weekly active members fall by more than 25%."
    )
    assert await page.get_by_label("Pause after a fall of more than (%)").input_value() == "25"
    assert live_gateway.graphql(admin_token, ROLLOUT)["rollout"]["guardrailDrop"] == 0.25
    [entry] = live_gateway.graphql(admin_token, AUDIT)["rolloutAudit"]
    assert entry == {"actor": ADMIN, "after": {"guardrail_drop": 0.25}, "reason": "Harvest season"}
    await screenshot(page, "19-guardrail-threshold")
