"""The admin console in Chromium against the production profile: the province admin signs in
through the Keycloak-shaped realm (authorization code + PKCE), advances wave 1 step by step, asks
for the province-wide wave, and a second province admin, signed in the same way, approves it
(the plan's rule: a province-wide step needs four eyes, docs/ROLLOUT.md). In trusted mode, so
every operation the console sends must be one of its manifest documents.

The tests run in file order and tell one story.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.console.conftest import CHROMIUM, _require_browser
from tests.production.conftest import Profile, bearer
from tests.production.database import ROOT

pytestmark = pytest.mark.slow
ADMIN, SECOND_ADMIN = "province-admin", "second-admin"
CONSOLE = ROOT / "clients" / "trusted-documents" / "console"
ADVANCE = (CONSOLE / "AdvanceRollout.graphql").read_text()
ROLLOUT = (CONSOLE / "Rollout.graphql").read_text()
ROLLBACK = (CONSOLE / "RollbackRollout.graphql").read_text()


def persisted(text: str) -> dict[str, Any]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    async with _require_browser().async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--no-first-run"],
        )
        yield browser
        await browser.close()


@pytest.fixture(scope="module")
async def pages(chromium: Any, profile: Profile) -> AsyncIterator[dict[str, Any]]:
    """One signed-in page per admin, each in its own browser context, kept for the story."""
    opened: dict[str, Any] = {}
    contexts = []
    for username in (ADMIN, SECOND_ADMIN):
        context = await chromium.new_context(base_url=profile.url, locale="en-GB")
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(60_000)  # the machine is shared; the gate read takes seconds
        opened[username] = page
    yield opened
    for context in contexts:
        await context.close()


async def _sign_in(page: Any, username: str) -> None:
    await page.goto("/admin/")
    await page.locator("#lang").select_option("en")
    await page.get_by_role("button", name="Sign in with your organisation account").click()
    await page.locator("#username").fill(username)  # the realm's login page
    await page.locator("#kc-login").click()


async def _advance(page: Any) -> str:
    """Click Advance and confirm; the dialog's text."""
    await page.get_by_role("button", name="Advance").click()
    dialog = page.get_by_role("dialog")
    await dialog.wait_for()
    text: str = await dialog.inner_text()
    reason = dialog.get_by_label("Reason to override the failing gate")
    if await reason.count():
        await reason.fill("Province decision")
    await dialog.get_by_role("button", name="Confirm").click()
    return text


async def test_a_province_admin_signs_in_through_the_realm(
    profile: Profile, pages: dict[str, Any]
) -> None:
    # given
    page = pages[ADMIN]
    # when
    await _sign_in(page, ADMIN)
    # then
    await page.locator("#province-table tr[data-tenant=yen-mo]").wait_for()
    assert page.url.endswith("/admin/#/province")
    # a realm user with no name: the header shows the username, the subject on hover
    assert ADMIN in await page.locator("#who").inner_text()
    assert profile.realm.users[ADMIN].id in (
        await page.locator("#who").get_attribute("title") or ""
    )
    assert await page.locator("#province-table tbody tr").count() == 12


async def _roll_back_to_the_pilot(profile: Profile) -> None:
    """The demo has wave 1 at 100%: back to the pilot, as the console sends it (by hash)."""
    token = profile.realm.access_token(ADMIN)
    async with httpx.AsyncClient(base_url=profile.url, timeout=60) as client:
        body = {"variables": {"flag": "handbook"}, "extensions": persisted(ROLLOUT)}
        state = (await client.post("/graphql", json=body, headers=bearer(token))).json()
        variables = {
            "flag": "handbook",
            "reason": "Incident drill",
            "expectedVersion": state["data"]["rollout"]["version"],
            "toWave": 0,
            "toStep": 0,
        }
        body = {"variables": variables, "extensions": persisted(ROLLBACK)}
        answer = await client.post("/graphql", json=body, headers=bearer(token))
    result = answer.json()["data"]["result"]
    assert (result["applied"], result["wave"], result["step"]) == (True, 0, 0), answer.text


async def test_the_admin_advances_wave_1(profile: Profile, pages: dict[str, Any]) -> None:
    # given wave 1 rolled back to the pilot
    await _roll_back_to_the_pilot(profile)
    page = pages[ADMIN]
    await page.goto("/admin/#/rollout")
    await page.locator("section.wave[data-wave='1']").wait_for()
    # when
    text = await _advance(page)
    # then
    assert "wave 1" in text
    await page.locator("#action-result .message.ok").wait_for()
    status = page.locator("#rollout-status")
    await status.filter(has_text="wave 1, step 1").wait_for()
    assert await status.inner_text() == "Status: running; wave 1, step 1"


async def test_a_second_admin_approves_the_province_wide_wave(
    profile: Profile, pages: dict[str, Any]
) -> None:
    # given wave 1 at 100%, the first admin asks for the next wave
    first = pages[ADMIN]
    token = profile.realm.access_token(ADMIN)
    for _ in (2, 3):  # as the console sends it: its manifest documents, by hash
        async with httpx.AsyncClient(base_url=profile.url, timeout=60) as client:
            body = {"variables": {"flag": "handbook"}, "extensions": persisted(ROLLOUT)}
            state = (await client.post("/graphql", json=body, headers=bearer(token))).json()
            variables = {"flag": "handbook", "expectedVersion": state["data"]["rollout"]["version"]}
            body = {"variables": variables, "extensions": persisted(ADVANCE)}
            answer = await client.post("/graphql", json=body, headers=bearer(token))
        assert answer.json()["data"]["result"]["applied"], answer.text
    await first.reload()  # the console does not announce its own admin's changes
    await first.locator("#rollout-status", has_text="wave 1, step 3").wait_for()
    text = await _advance(first)
    assert "needs a second province admin's approval" in text
    await first.locator("#action-result", has_text="waiting for another province admin").wait_for()
    assert await first.locator("#approvals li button.approve").count() == 0  # not one's own
    # when the second admin, signed in through the realm, approves it
    second = pages[SECOND_ADMIN]
    await _sign_in(second, SECOND_ADMIN)
    await second.locator("#province-table").wait_for()
    await second.goto("/admin/#/rollout")
    request = second.locator("#approvals li").first
    await request.wait_for()
    await request.get_by_role("button", name="Approve").click()
    await second.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    # then the rollout moves, for both admins
    await second.locator("#rollout-status", has_text="wave 2, step 1").wait_for()
    await second.locator("#approvals-empty").wait_for()
    await first.locator("#rollout-status", has_text="wave 2, step 1").wait_for(timeout=15_000)
    assert await first.locator("#live").get_attribute("data-via") == "push"  # not polled
