"""Yên Mô's tenant admin in Chromium against the production profile: signed in through the realm,
named from the member directory (the realm gives no name), their district's view in trusted mode,
and a ramp within their wave set and put back through the console.

Runs after ``test_console.py`` (the plan is past the pilot: Yên Mô's wave is at 100%).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from tenants.handbook.read_model import full_name
from tests import databases
from tests.production.conftest import TENANT, People, Profile
from tests.production.test_console import chromium  # noqa: F401  (the module's browser)

pytestmark = pytest.mark.slow
DISTRICT_ADMIN = "district-admin"


@pytest.fixture(scope="module")
async def secretary_name(production_database: databases.TestDatabase, people: People) -> str:
    engine = make_engine(production_database.app_url)
    try:
        async with scope_session(make_sessionmaker(engine)(), TENANT) as session:
            name = await full_name(
                session=session, tenant_id=TENANT, member_id=uuid.UUID(people.secretary)
            )
    finally:
        await engine.dispose()
    assert name
    return name


@pytest.fixture
async def page(chromium: Any, profile: Profile) -> AsyncIterator[Any]:  # noqa: F811
    context = await chromium.new_context(base_url=profile.url, locale="en-GB")
    page = await context.new_page()
    page.set_default_timeout(60_000)
    yield page
    await context.close()


async def _save(page: Any, percentage: str, reason: str) -> None:
    """Set the share through the form; wait for the console to say it was saved."""
    await page.get_by_label("Share on (%)").fill(percentage)
    await page.get_by_label("Reason (audited)").fill(reason)
    await page.get_by_role("button", name="Save share").click()
    saved = f"Saved: on for {percentage}% of your district's members."
    await page.locator("#ramp-result .message.ok", has_text=saved).wait_for()


async def test_the_district_admin_sees_their_district_by_name_and_ramps_it(
    profile: Profile, page: Any, people: People, secretary_name: str
) -> None:
    # given
    await page.goto("/admin/")
    await page.locator("#lang").select_option("en")
    await page.get_by_role("button", name="Sign in with your organisation account").click()
    await page.locator("#username").fill(DISTRICT_ADMIN)
    # when
    await page.locator("#kc-login").click()
    await page.locator("main[data-ready=district]").wait_for()
    # then: their own name (from the member directory), the subject on hover; their menu
    who = page.locator("#who")
    assert await who.inner_text() == f"{secretary_name} — Tenant admin · {TENANT}"
    assert await who.get_attribute("title") == people.secretary
    visible = page.locator("#nav a:not([hidden])")
    assert await visible.all_inner_texts() == ["District", "Adoption"]
    assert await page.locator("#district-state .percentage").inner_text() == "100%"
    # when: lowered
    await _save(page, "60", "Branches trained first")
    # then
    assert await page.locator("#district-state .percentage").inner_text() == "60%"
    assert await page.locator("#district-state .state").inner_text() == "Partly on"
    # when: put back
    await _save(page, "100", "All branches trained")
    # then
    assert await page.locator("#district-state .percentage").inner_text() == "100%"
    assert await page.locator("#district-state .state").inner_text() == "On"
