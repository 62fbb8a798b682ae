"""``GET /``: a landing page for browsers, coded JSON for other clients, every link alive."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.console.routes import DIST
from gateway.edge.middleware import API_CSP
from gateway.pages.landing import LANDING_CSP, VERSION
from gateway.settings import Environment
from tests.conftest import make_settings
from tests.gateway.html_refs import absolute_urls, references
from tests.graphql import asgi_client

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PRODUCTION = {
    "environment": Environment.PRODUCTION,
    "jwt_secret": SecretStr("landing-test-secret-" + "x" * 40),
    "install_token_key": SecretStr("i" * 32),
}


@pytest.fixture
def production_client(database, gateway):
    """``production_client(headers)``: production settings that say nothing about GraphiQL;
    each test closes the client with ``async with``."""

    def make(headers: dict[str, str]) -> httpx.AsyncClient:
        app = create_app(make_settings(database, **PRODUCTION), state=gateway)
        return asgi_client(app, headers=headers)

    return make


def _alive(path: str, status: int, code: str | None) -> bool:
    """200, or the console's documented 503 while its front-end is not built."""
    if status == 200:
        return True
    unbuilt = not (DIST / "index.html").is_file()
    return path == "/admin/" and unbuilt and (status, code) == (503, "CONSOLE_NOT_BUILT")


async def test_a_browser_gets_the_page_in_vietnamese_and_english(edge_client):
    # given
    client = edge_client(headers=HTML)
    # when
    response = await client.get("/")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == LANDING_CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Accept" in response.headers["vary"].split(", ")
    text = response.text
    assert "PilotGraph là cổng GraphQL cho nhiều đơn vị" in text
    assert "PilotGraph is a multi-tenant GraphQL gateway" in text
    assert f'<span id="version">{VERSION}</span>' in text
    assert "<code>docs/DEPLOY.md</code>" in text
    assert absolute_urls(text) == []
    assert references(text).inline_scripts == []


async def test_every_link_and_asset_of_the_page_answers(edge_client):
    # given
    client = edge_client(headers=HTML)
    page = references((await client.get("/")).text)
    # when
    answers = {path: await client.get(path) for path in page.links + page.assets}
    # then
    assert set(page.links) == {"/admin/", "/graphql", "/healthz", "/readyz"}
    assert page.assets == ["/assets/pages.css"]
    for path, answer in answers.items():
        code = answer.json()["errors"][0]["extensions"]["code"] if answer.is_error else None
        assert _alive(path, answer.status_code, code), (path, answer.status_code, answer.text)
    assert "GraphiQL" in answers["/graphql"].text


async def test_with_graphiql_off_the_page_names_the_endpoint_without_linking_it(
    production_client,
):
    # given: production, which leaves GraphiQL off unless told otherwise
    async with production_client(HTML) as client:
        # when
        page = await client.get("/")
        graphiql = await client.get("/graphql")
        bundle = await client.get("/assets/graphiql/graphiql.min.js")
    # then
    assert page.status_code == 200
    assert "/graphql" not in references(page.text).links
    assert "<code>POST /graphql</code>" in page.text
    assert "GraphiQL is turned off here" in page.text
    assert graphiql.status_code == 404
    assert graphiql.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert bundle.status_code == 404
    assert bundle.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_client_that_does_not_ask_for_html_gets_coded_json(edge_client):
    # given: an API client and curl (which sends */*)
    client = edge_client()
    # when
    answers = [
        await client.get("/", headers={"Accept": "application/json"}),
        await client.get("/", headers={"Accept": "*/*"}),
    ]
    # then
    for response in answers:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-security-policy"] == API_CSP
        assert "Accept" in response.headers["vary"].split(", ")
        body = response.json()
        assert (body["code"], body["name"], body["version"]) == ("LANDING", "PilotGraph", VERSION)
        assert body["links"] == {
            "admin": "/admin/",
            "graphql": "/graphql",
            "graphiql": "/graphql",
            "healthz": "/healthz",
            "readyz": "/readyz",
        }
        assert "docs/DEPLOY.md" in body["docs"]


async def test_json_says_graphiql_is_off_in_production(production_client):
    # given
    async with production_client({"Accept": "application/json"}) as client:
        # when
        body = (await client.get("/")).json()
    # then
    assert body["links"]["graphiql"] is None
    assert body["links"]["graphql"] == "/graphql"


async def test_the_landing_page_takes_only_get(edge_client):
    # given
    client = edge_client()
    # when
    response = await client.post("/", json={})
    # then
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
