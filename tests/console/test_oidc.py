"""The console's OpenID Connect login (authorization code + PKCE) against a fake issuer."""

from __future__ import annotations

import httpx
import pytest

from tests.console.conftest import _free_port, serve
from tests.console.fake_idp import SUBJECT, running_issuer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def oidc_gateway(live_gateway, tmp_path_factory):
    """A second gateway over the same demo database, with an OIDC issuer configured."""
    with running_issuer(_free_port()) as issuer:
        env = {**live_gateway.env, "PILOTGRAPH_OIDC_ISSUER": issuer.base}
        with serve(env, tmp_path_factory.mktemp("oidc") / "gateway.log") as url:
            yield url


async def test_a_province_admin_signs_in_through_the_issuer(oidc_gateway, browser, screenshot):
    # given
    context = await browser.new_context(base_url=oidc_gateway, locale="en-GB")
    page = await context.new_page()
    page.set_default_timeout(60_000)
    await page.goto("/admin/")
    await page.locator("#lang").select_option("en")
    # when
    await page.get_by_role("button", name="Sign in with your organisation account").click()
    # then
    await page.locator("#province-table tr[data-tenant=yen-mo]").wait_for()
    assert page.url.endswith("/admin/#/province")
    assert SUBJECT in await page.locator("#who").inner_text()
    await screenshot(page, "15-oidc-signed-in")
    await context.close()


async def test_a_code_without_its_verifier_is_refused(oidc_gateway):
    # given
    body = {"code": "forged", "codeVerifier": "x" * 43, "redirectUri": f"{oidc_gateway}/admin/"}
    # when
    async with httpx.AsyncClient(base_url=oidc_gateway) as client:
        response = await client.post("/admin/api/oidc/token", json=body)
    # then
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert (error["extensions"]["code"], error["message"]) == (
        "UNAUTHENTICATED",
        "The sign-in service refused the login.",
    )


async def test_without_an_issuer_the_console_offers_only_the_token_form(live_gateway):
    # given
    async with httpx.AsyncClient(base_url=live_gateway.url) as client:
        # when
        response = await client.get("/admin/api/config")
    # then
    assert response.json() == {"oidc": None}


TTL_S = 4
SESSION_ENDED = "Your session has expired and could not be renewed. Sign in again."


@pytest.fixture(scope="module")
def short_lived(live_gateway, tmp_path_factory):
    """An issuer whose access tokens live 4 s, and a gateway allowing no clock leeway."""
    with running_issuer(_free_port(), ttl_s=TTL_S) as issuer:
        env = {
            **live_gateway.env,
            "PILOTGRAPH_OIDC_ISSUER": issuer.base,
            "PILOTGRAPH_JWT_LEEWAY_S": "0",
        }
        with serve(env, tmp_path_factory.mktemp("short") / "gateway.log") as url:
            yield url, issuer


async def _signed_in_page(browser, url):
    context = await browser.new_context(base_url=url, locale="en-GB")
    page = await context.new_page()
    page.set_default_timeout(60_000)
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/graphql") else None)
    await page.goto("/admin/")
    await page.locator("#lang").select_option("en")
    await page.get_by_role("button", name="Sign in with your organisation account").click()
    await page.locator("#province-table tr[data-tenant=yen-mo]").wait_for()
    return context, page, answers


async def test_the_console_keeps_working_past_its_token_lifetime(short_lived, browser):
    # given: signed in with a token that expires in 4 s
    url, issuer = short_lived
    context, page, answers = await _signed_in_page(browser, url)
    try:
        # when: three lifetimes later, the admin opens the audit log and the province again
        await page.wait_for_timeout(3 * TTL_S * 1000)
        await page.locator("#nav a[data-view=audit]").click()
        await page.locator("#audit-table").wait_for()
        await page.locator("#nav a[data-view=province]").click()
        await page.locator("#province-table tr[data-tenant=yen-mo]").wait_for()
        # then: the token was refreshed before each expiry, every call answered, discovery read once
        assert issuer.stats["refresh_token"] >= 3
        assert issuer.stats["discovery"] == 1
        statuses = [a.status for a in answers]
        assert statuses
        assert set(statuses) == {200}, statuses
        for answer in answers:
            assert "errors" not in await answer.json()
        assert SUBJECT in await page.locator("#who").inner_text()
    finally:
        await context.close()


async def test_a_refused_refresh_returns_to_sign_in_with_a_message(short_lived, browser):
    # given
    url, issuer = short_lived
    context, page, _ = await _signed_in_page(browser, url)
    # when: the issuer ends the session (revoked), and the next refresh is refused
    issuer.refusing = True
    try:
        alert = page.locator("#signin [role=alert]")
        await alert.wait_for(timeout=3 * TTL_S * 1000)
        # then
        assert await alert.inner_text() == SESSION_ENDED
        assert await page.locator("#nav").is_hidden()
        assert await page.evaluate("sessionStorage.length") == 0
    finally:
        issuer.refusing = False
        await context.close()


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        (
            {"refreshToken": "forged"},
            401,
            "UNAUTHENTICATED",
            "The sign-in service refused to renew the session.",
        ),
        ({"refresh": "x"}, 400, "BAD_USER_INPUT", "Send refreshToken."),
    ],
)
async def test_a_bad_refresh_is_refused(short_lived, body, status, code, message):
    # given
    url, _ = short_lived
    # when
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/admin/api/oidc/refresh", json=body)
    # then
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert (error["extensions"]["code"], error["message"]) == (code, message)
