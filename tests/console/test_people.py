"""People by name in Chromium: the header, the audit log (the subject on hover), and a subject
shortened when no name is known.

Runs on the shared demo gateway: the test acts through the API first, with its own people.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.console.conftest import filter_audit, sign_in
from tests.console.test_district import RAMP, yen_mo
from tests.console.test_plan_safety import running_with_two_rollbacks

pytestmark = pytest.mark.slow

NOBODY = "00000000-0000-4000-8000-0000000b0b01"  # a province admin who is no member
ME = "query { me { id fullName } }"
PAUSE = """mutation { result: pauseRollout(flag: "handbook", reason: "People test")
  { errors { code } } }"""
RESUME = (
    """mutation { result: resumeRollout(flag: "handbook", reason: "Ok") { errors { code } } }"""
)
STATE = """query { rollout(flag: "handbook") { tenants { tenant percentage } } }"""


async def test_the_header_names_the_signed_in_member_and_keeps_the_subject_on_hover(
    live_gateway, admin_token, new_page
):
    # given: a Yên Mô admin whose token carries no name (the demo's first member of Yên Mô)
    running_with_two_rollbacks(live_gateway, admin_token)
    tenant_admin = live_gateway.token("--role", "tenant_admin", "--tenant", "yen-mo")
    me = live_gateway.graphql(tenant_admin, ME)["me"]
    page = await new_page()
    # when
    await sign_in(page, tenant_admin, view="district")
    await page.locator("main[data-ready=district]").wait_for()
    # then
    who = page.locator("#who")
    assert await who.inner_text() == f"{me['fullName']} — Tenant admin · yen-mo"
    subject = await who.get_attribute("title")
    assert len(subject or "") == 36
    assert subject not in await who.inner_text()


async def test_audit_rows_name_members_and_shorten_other_subjects(
    live_gateway, admin_token, new_page, screenshot
):
    # given: a nameless Yên Mô admin ramps (a member: named from the directory), and a nameless
    # province admin who is no member pauses and resumes the plan
    running_with_two_rollbacks(live_gateway, admin_token)
    tenant_admin = live_gateway.token("--role", "tenant_admin", "--tenant", "yen-mo")
    me = live_gateway.graphql(tenant_admin, ME)["me"]
    full = yen_mo(live_gateway.graphql(admin_token, STATE)["rollout"])["percentage"]
    for percentage in (full / 2, full):
        ramp = live_gateway.graphql(tenant_admin, RAMP, {"percentage": percentage})
        assert ramp["result"]["errors"] == []
    nobody = live_gateway.token("--role", "province_admin", "--member", NOBODY)
    for step in (PAUSE, RESUME):
        assert live_gateway.graphql(nobody, step)["result"]["errors"] == []
    page = await new_page()
    await sign_in(page, admin_token, view="audit")
    await page.locator("#audit-table").wait_for()
    rows = page.locator("#audit-table tbody tr")
    # when: the tenant's ramps
    await filter_audit(page, {"Action": "tenant.ramp"})
    # then: the member's full name, the subject on hover
    actor = rows.first.locator(".actor")
    assert await actor.inner_text() == me["fullName"]
    assert len(await actor.get_attribute("title") or "") == 36
    # when: the province admin who is no member
    await filter_audit(page, {"Action": "", "Actor": NOBODY})
    # then: the subject shortened, the whole of it on hover
    await expect(rows.first.locator(".actor")).to_have_text("00000000…")
    assert await rows.first.locator(".actor").get_attribute("title") == NOBODY
    await screenshot(page, "32-audit-people")


SCHEDULE = """mutation { result: scheduleRolloutStep(flag: "handbook", action: PAUSE,
  runAt: "2099-01-01T01:00:00Z", reason: "People test") { id errors { code } } }"""
CANCEL = """mutation($id: ID!) { result: cancelScheduledRolloutStep(id: $id, reason: "Done")
  { errors { code } } }"""
OVERRIDE = """mutation($variant: String) { result: setFlagOverride(flag: "handbook.notices",
  tenant: "kim-son", variant: $variant, reason: "People test") { errors { code } } }"""
NAMED_ADMIN = "00000000-0000-4000-8000-0000000b0b02"


async def test_a_scheduled_step_and_an_override_name_who_wrote_them(
    live_gateway, admin_token, new_page, screenshot
):
    # given: a province admin whose token names her schedules a pause and overrides a flag
    running_with_two_rollbacks(live_gateway, admin_token)
    named = live_gateway.token(
        "--role", "province_admin", "--member", NAMED_ADMIN, "--name", "Trần Thị Hoa"
    )
    scheduled = live_gateway.graphql(named, SCHEDULE)["result"]
    assert scheduled["errors"] == []
    assert live_gateway.graphql(named, OVERRIDE, {"variant": "on"})["result"]["errors"] == []
    try:
        page = await new_page()
        # when another admin opens the rollout page
        await sign_in(page, admin_token, view="rollout")
        item = page.locator(f"#scheduled li[data-step='{scheduled['id']}'] .request")
        override = page.locator("[data-flag='handbook.notices'] li.override[data-tenant=kim-son]")
        # then: her name, her subject on hover
        await expect(item).to_contain_text("(scheduled by Trần Thị Hoa)")
        assert await item.get_attribute("title") == NAMED_ADMIN
        await expect(override.locator(".sub")).to_contain_text("Trần Thị Hoa,")
        assert await override.locator(".sub").get_attribute("title") == NAMED_ADMIN
        await screenshot(page, "33-rollout-people")
    finally:
        cancel = live_gateway.graphql(admin_token, CANCEL, {"id": scheduled["id"]})
        assert cancel["result"]["errors"] == []
        clear = live_gateway.graphql(admin_token, OVERRIDE, {"variant": None})
        assert clear["result"]["errors"] == []
