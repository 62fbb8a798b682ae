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
        env = {**live_gateway.env, "PILOTGRAPH_OIDC_ISSUER": issuer}
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
