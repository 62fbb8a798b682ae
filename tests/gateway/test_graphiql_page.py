"""GraphiQL's page: every asset from the gateway, a CSP with no inline script, the member home."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gateway.pages import graphiql
from gateway.pages.graphiql import GRAPHIQL_CSP, GRAPHIQL_DIST
from tests.conftest import IN_CI
from tests.gateway.html_refs import absolute_urls, references

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "clients" / "trusted-documents" / "manifest.json"
HTML = {"Accept": "text/html"}
CONFIG = re.compile(r'<script type="application/json" id="graphiql-config">(.*?)</script>', re.S)
MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def _require_build() -> None:
    if not (GRAPHIQL_DIST / "graphiql.min.js").is_file():
        reason = "GraphiQL's files are built by `npm run build --prefix console` (make test)"
        if IN_CI:
            pytest.fail(f"in CI {reason}")
        pytest.skip(reason)


async def test_the_page_and_every_asset_it_loads_come_from_the_gateway(edge_client):
    # given
    _require_build()
    client = edge_client(headers=HTML)
    page = await client.get("/graphql")
    assets = references(page.text).assets
    # when
    answers = {path: await client.get(path) for path in assets}
    # then
    assert page.status_code == 200
    assert absolute_urls(page.text) == []
    assert len(assets) == 6  # React, ReactDOM, GraphiQL and its CSS, our start script and CSS
    for path, answer in answers.items():
        assert path.startswith("/assets/"), path
        assert answer.status_code == 200, (path, answer.text[:200])
        assert answer.headers["content-type"] == MEDIA[Path(path).suffix], path
    styles = [answer.text for path, answer in answers.items() if path.endswith(".css")]
    assert all(not re.search(r"url\(\s*['\"]?(https?:)?//|@import", css) for css in styles)


async def test_the_page_allows_no_inline_script_and_loads_only_from_itself(edge_client):
    # given
    client = edge_client(headers=HTML)
    # when
    page = await client.get("/graphql")
    # then
    csp = page.headers["content-security-policy"]
    assert csp == GRAPHIQL_CSP
    assert "script-src 'self';" in csp
    assert "unsafe" not in csp
    assert "connect-src 'self';" in csp
    inline = references(page.text).inline_scripts
    assert inline == [{"type": "application/json", "id": "graphiql-config"}]  # data, never run


async def test_the_page_opens_with_the_member_home_and_a_headers_template(edge_client):
    # given
    client = edge_client(headers=HTML)
    operations = json.loads(MANIFEST.read_text("utf-8"))["operations"]
    home = next(op["body"] for op in operations if op["name"] == "Home")
    # when
    page = await client.get("/graphql")
    # then
    match = CONFIG.search(page.text)
    assert match is not None
    config = json.loads(match[1])
    assert config["query"] == home
    assert json.loads(config["headers"]) == {"Authorization": "Bearer <token>"}


async def test_the_page_under_a_tenant_path_is_the_same_page(edge_client):
    # given
    client = edge_client(headers=HTML)
    # when
    page = await client.get("/t/yen-mo/graphql")
    # then
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == GRAPHIQL_CSP
    assert "/assets/graphiql-start.js" in references(page.text).assets


async def test_before_a_build_the_bundles_answer_a_coded_503(edge_client, tmp_path, monkeypatch):
    # given: the console (and so GraphiQL) never built
    monkeypatch.setattr(graphiql, "GRAPHIQL_DIST", tmp_path / "missing")
    client = edge_client()
    # when
    response = await client.get("/assets/graphiql/graphiql.min.js")
    # then
    assert response.status_code == 503
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHIQL_NOT_BUILT"
    assert "npm run build --prefix console" in error["message"]


async def test_only_built_files_are_served(edge_client):
    # given
    client = edge_client()
    # when
    answers = [
        await client.get("/assets/graphiql/../../pyproject.toml"),
        await client.get("/assets/graphiql/%2e%2e/index.html"),
        await client.get("/assets/nothing.js"),
    ]
    # then
    for response in answers:
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
