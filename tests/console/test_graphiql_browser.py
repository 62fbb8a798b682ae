"""GraphiQL and the landing page in Chromium, with every host but the gateway's blocked.

A provincial network may have no way out: the pages must load, and GraphiQL must run the member
home, from what the gateway serves alone. Any request elsewhere is refused and fails the test, as
does any load or script the page's Content-Security-Policy refuses.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.async_api").expect


async def offline(page: Any, gateway_url: str) -> list[str]:
    """Let ``page`` reach only the gateway; the list fills with every other URL it tried."""
    attempted: list[str] = []
    gateway = urlsplit(gateway_url).netloc

    async def only_the_gateway(route: Any) -> None:
        if urlsplit(route.request.url).netloc == gateway:
            await route.continue_()
        else:
            attempted.append(route.request.url)
            await route.abort("blockedbyclient")

    await page.route("**/*", only_the_gateway)
    return attempted


def csp_refusals(page: Any) -> list[str]:
    """Every message Chromium logs when the page's Content-Security-Policy refuses something."""
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return refused


async def test_graphiql_runs_the_member_home_with_only_the_gateway_reachable(
    live_gateway, new_page, screenshot
):
    # given: a member of Yen Mo, and a browser that may reach only the gateway
    token = live_gateway.token("--role", "member", "--tenant", "yen-mo")
    name = live_gateway.graphql(token, "{ me { fullName } }")["me"]["fullName"]
    page = await new_page()
    outside, refused = await offline(page, live_gateway.url), csp_refusals(page)
    await page.goto("/graphql")
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("query Home")
    headers = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    await expect(headers).to_contain_text('{"Authorization": "Bearer <token>"}')
    # when: the member pastes their token into the template and runs the example
    await headers.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {token}"}))
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    # then
    result = page.locator(".result-window")
    await expect(result).to_contain_text(name)
    await expect(result).to_contain_text('"meetings"')
    assert '"errors"' not in await result.inner_text()
    await screenshot(page, "graphiql-home")
    assert outside == []
    assert refused == []


async def test_the_landing_page_loads_with_only_the_gateway_reachable(
    live_gateway, new_page, screenshot
):
    # given
    page = await new_page()
    outside, refused = await offline(page, live_gateway.url), csp_refusals(page)
    # when
    answer = await page.goto("/")
    await page.get_by_role("link", name="/graphql").click()
    # then
    assert answer is not None
    assert answer.status == 200
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("query Home")
    await page.go_back()
    await expect(page.get_by_role("heading", name="PilotGraph")).to_be_visible()
    await screenshot(page, "landing")
    assert outside == []
    assert refused == []
