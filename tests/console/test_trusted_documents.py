"""The console against a gateway in trusted-documents mode with the committed manifest: every
view works for a province admin, and every GraphQL request the console sends is a manifest hash.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.edge.manifest import CLIENTS_MANIFEST
from tests.console.conftest import ROOT, serve, sign_in

pytestmark = pytest.mark.slow

CONSOLE_DOCUMENTS = ROOT / "clients" / "trusted-documents" / "console"
SOURCE = ROOT / "console" / "src" / "assets"
# a GraphQL document in a JS string: `query X(`, `mutation {`, `{ field(` after a quote
INLINE_GRAPHQL = re.compile(r"""[`"']\s*(query|mutation|subscription)\b|[`"']\s*\{\s*\w+\s*[({]""")
# every view, and what shows it has loaded
VIEWS = {
    "province": "#province-table tr[data-tenant=yen-mo]",
    "rollout": "#rollout-status",
    "adoption": "#adoption-csv",
    "notices": "#notices-results > *",
    "audit": "#audit-results > *",
}


def _manifest() -> dict[str, dict[str, str]]:
    operations = json.loads(CLIENTS_MANIFEST.read_text(encoding="utf-8"))["operations"]
    return {op["name"]: op for op in operations}


def _console_ids() -> set[str]:
    manifest = _manifest()
    return {manifest[path.stem]["id"] for path in CONSOLE_DOCUMENTS.glob("*.graphql")}


@asynccontextmanager
async def recorded(browser: Any, base_url: str) -> AsyncIterator[tuple[Any, list[Any], list[Any]]]:
    """A page on ``base_url``, and every /graphql request and response it makes."""
    context = await browser.new_context(base_url=base_url, locale="en-GB")
    page = await context.new_page()
    page.set_default_timeout(60_000)
    sent: list[Any] = []
    answered: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/graphql") else None)
    page.on("response", lambda r: answered.append(r) if r.url.endswith("/graphql") else None)
    try:
        yield page, sent, answered
    finally:
        await context.close()  # an open event stream would hold the gateway at shutdown


async def _hashes_answered(sent: list[Any], answered: list[Any]) -> list[dict[str, Any]]:
    """The request bodies, each a console operation's hash, each answered without an error."""
    bodies = [json.loads(r.post_data or "{}") for r in sent]
    console_ids = _console_ids()
    for body in bodies:
        assert body["extensions"]["persistedQuery"]["sha256Hash"] in console_ids, body
    for answer in answered:
        payload = await answer.json()
        assert (answer.status, "errors" in payload) == (200, False), payload
    return bodies


@pytest.fixture(scope="module")
def trusted_gateway(live_gateway, tmp_path_factory):
    """A gateway over the demo database that runs only the committed manifest's operations."""
    edge = {"persisted": "trusted", "trusted_manifest": str(CLIENTS_MANIFEST)}
    env = {**live_gateway.env, "PILOTGRAPH_EDGE": json.dumps(edge)}
    with serve(env, tmp_path_factory.mktemp("trusted") / "gateway.log") as url:
        yield url


async def test_every_view_works_in_trusted_mode_sending_only_hashes(
    trusted_gateway, admin_token, browser, screenshot
):
    # given: a province admin on the trusted gateway, every /graphql exchange recorded
    async with recorded(browser, trusted_gateway) as (page, sent, answered):
        await sign_in(page, admin_token)
        # when: every view, and a step scheduled in the past (a mutation refused in its payload)
        for view, loaded in VIEWS.items():
            await page.goto(f"/admin/#/{view}")
            await page.locator(loaded).first.wait_for()
            await screenshot(page, f"30-trusted-{view}")
        await page.goto("/admin/#/rollout")
        await page.locator("#schedule-at").fill("2020-01-01T10:00")
        await page.locator("#schedule-reason").fill("Trusted-mode check")
        await page.locator("#schedule-form button[type=submit]").click()
        await page.locator("#schedule-result [role=alert]").wait_for()
        # then: each request is a console operation's hash, never a document, and each answer
        # is data without a GraphQL error (OPERATION_NOT_ALLOWED or any other)
        bodies = await _hashes_answered(sent, answered)
        assert len(bodies) >= len(VIEWS)
        for body in bodies:
            assert set(body) <= {"operationName", "variables", "extensions"}, body


async def test_a_tenant_admins_views_work_in_trusted_mode_sending_only_hashes(
    trusted_gateway, live_gateway, browser
):
    # given: a tenant admin on the trusted gateway, every /graphql exchange recorded
    tenant_admin = live_gateway.token("--role", "tenant_admin", "--tenant", "yen-mo")
    async with recorded(browser, trusted_gateway) as (page, sent, answered):
        # when: their district (its state, adoption and ramp form), then adoption
        await sign_in(page, tenant_admin, view="district")
        await page.locator("#district-adoption").wait_for()
        await page.locator("#district-state").wait_for()
        await page.goto("/admin/#/adoption")
        await page.locator("#adoption-csv").wait_for()
        # then: hashes of console operations only, each answered without an error
        bodies = await _hashes_answered(sent, answered)
        assert "DistrictRollout" in {body["operationName"] for body in bodies}


async def test_every_console_operation_is_allowed_by_the_trusted_gateway(trusted_gateway):
    # given: each console operation by hash, without its variables
    manifest = _manifest()
    names = sorted(path.stem for path in CONSOLE_DOCUMENTS.glob("*.graphql"))
    codes = {}
    async with httpx.AsyncClient(base_url=trusted_gateway) as client:
        for name in names:
            # when
            persisted = {"persistedQuery": {"version": 1, "sha256Hash": manifest[name]["id"]}}
            response = await client.post("/graphql", json={"extensions": persisted})
            codes[name] = {e["extensions"]["code"] for e in response.json()["errors"]}
    # then: the edge lets each one through (the schema then asks for a token or variables)
    assert len(codes) == 25
    refused = {"OPERATION_NOT_ALLOWED", "PERSISTED_QUERY_NOT_FOUND"}
    assert not {name: c for name, c in codes.items() if c & refused}, codes


def test_the_console_source_holds_no_graphql_document():
    # given
    sources = sorted(SOURCE.rglob("*.js"))
    # when
    inline = {
        str(path.relative_to(ROOT)): INLINE_GRAPHQL.findall(path.read_text(encoding="utf-8"))
        for path in sources
    }
    # then
    assert len(sources) >= 10
    assert not {path: found for path, found in inline.items() if found}


def test_every_console_document_is_sent_by_the_console():
    # given
    text = "\n".join(p.read_text(encoding="utf-8") for p in SOURCE.rglob("*.js"))
    # when: the names the source asks for (gql("Name", …) and the actions' table)
    named = set(re.findall(r'"([A-Z]\w+)"', text))
    documents = {path.stem for path in CONSOLE_DOCUMENTS.glob("*.graphql")}
    # then: no document is in the manifest for nothing, none sent is missing from it
    assert documents <= named, documents - named
    asked = set(re.findall(r'gql\(\s*"(\w+)"', text))
    assert asked <= documents, asked - documents
