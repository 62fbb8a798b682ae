"""Every view of the console in the production profile, for each role signed in through the
realm, in both languages, on a desktop and on a phone: as ``tests/console/test_views.py`` checks
the development gateway (axe-core's serious and critical violations, codes shown as is, sideways
scrolling), here in trusted mode with the realm's tokens. Screenshots are kept under
tests/artifacts/console/ with a ``production-`` prefix.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.test_views import LANGUAGES, VIEWPORTS, problems_of_every_view
from tests.production.conftest import Profile
from tests.production.test_console import chromium  # noqa: F401  (the module's browser)

pytestmark = pytest.mark.slow
USERS = {"province_admin": "province-admin", "auditor": "auditor", "tenant_admin": "district-admin"}


async def sign_in_through_the_realm(
    browser: Any, profile: Profile, username: str, viewport: str, lang: str
) -> Any:
    """A page signed in as ``username``; CSP bypassed only so the test can inject axe-core."""
    context = await browser.new_context(
        base_url=profile.url, viewport=VIEWPORTS[viewport], locale="en-GB", bypass_csp=True
    )
    page = await context.new_page()
    page.set_default_timeout(60_000)
    await page.goto("/admin/")
    await page.locator("#lang").select_option(lang)
    await page.locator("#oidc-login").click()
    await page.locator("#username").fill(username)  # the realm's login page
    await page.locator("#kc-login").click()
    await page.locator("main[data-ready]").wait_for()
    await page.locator("#lang").select_option(lang)
    return page


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", sorted(USERS))
async def test_every_view_is_accessible_and_fits_in_the_production_profile(
    chromium: Any,  # noqa: F811
    profile: Profile,
    role: str,
    lang: str,
    viewport: str,
) -> None:
    # given
    page = await sign_in_through_the_realm(chromium, profile, USERS[role], viewport, lang)
    # when every view of the menu is opened
    name = f"production-{role}-{{view}}-{lang}-{viewport}"
    problems = await problems_of_every_view(page, role, name)
    # then
    assert problems == []
    await page.context.close()
