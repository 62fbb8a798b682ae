"""Browser safety: CORS for configured origins, security headers on every answer."""

from __future__ import annotations

from pydantic import SecretStr

from gateway.app import create_app
from gateway.pages import GRAPHIQL_CSP
from gateway.settings import Environment
from tests.conftest import make_settings
from tests.graphql import asgi_client

HANDBOOK = "https://handbook.ninhbinh.example"
ELSEWHERE = "https://evil.example"
TYPENAME = {"query": "{ __typename }"}


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_preflight_from_a_configured_origin_is_allowed(edge_client):
    # given
    client = edge_client(cors_origins=(HANDBOOK,))
    # when
    response = await client.options("/graphql", headers=preflight(HANDBOOK))
    # then
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == HANDBOOK
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert response.headers["access-control-max-age"] == "600"


async def test_preflight_from_another_origin_is_refused(edge_client):
    # given
    client = edge_client(cors_origins=(HANDBOOK,))
    # when
    response = await client.options("/graphql", headers=preflight(ELSEWHERE))
    # then
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_answers_name_only_the_configured_origin(edge_client):
    # given
    client = edge_client(cors_origins=(HANDBOOK,))
    # when
    allowed = await client.post("/graphql", json=TYPENAME, headers={"Origin": HANDBOOK})
    other = await client.post("/graphql", json=TYPENAME, headers={"Origin": ELSEWHERE})
    # then
    assert allowed.headers["access-control-allow-origin"] == HANDBOOK
    assert "access-control-allow-origin" not in other.headers


async def test_security_headers_on_api_answers_and_errors(edge_client):
    # given
    client = edge_client()
    # when
    answers = [
        await client.post("/graphql", json=TYPENAME),
        await client.post(
            "/graphql", content=b"{bad", headers={"Content-Type": "application/json"}
        ),
        await client.get("/healthz"),
    ]
    # then
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
        assert "strict-transport-security" not in response.headers


async def test_graphiql_has_its_own_csp_and_production_adds_hsts(edge_client):
    # given
    development = edge_client(headers={"Accept": "text/html"})
    production = edge_client(
        settings__environment=Environment.PRODUCTION,
        settings__jwt_secret=SecretStr("edge-test-secret-" + "x" * 40),
    )
    # when
    graphiql = await development.get("/graphql")
    api = await production.post("/graphql", json=TYPENAME)
    # then
    assert graphiql.status_code == 200
    assert graphiql.headers["content-security-policy"] == GRAPHIQL_CSP
    assert graphiql.headers["x-content-type-options"] == "nosniff"
    assert api.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_browser_providers_may_send_if_none_match_and_read_etag(edge_client):
    # given: an OpenFeature web provider polling OFREP from the handbook's origin
    client = edge_client(cors_origins=(HANDBOOK,))
    headers = {
        "Origin": HANDBOOK,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, if-none-match",
    }
    # when
    preflight_answer = await client.options("/ofrep/v1/evaluate/flags", headers=headers)
    answer = await client.post("/graphql", json=TYPENAME, headers={"Origin": HANDBOOK})
    # then
    assert preflight_answer.status_code == 200
    assert "if-none-match" in preflight_answer.headers["access-control-allow-headers"].lower()
    assert "etag" in answer.headers["access-control-expose-headers"].lower()


async def test_graphql_answers_are_never_stored_by_a_cache(edge_client):
    # given
    client = edge_client()
    # when: POST, GET, a tenant-prefixed path, and a refusal
    answers = [
        await client.post("/graphql", json=TYPENAME),
        await client.get("/graphql", params=TYPENAME, headers={"Accept": "application/json"}),
        await client.post("/t/yen-mo/graphql", json=TYPENAME),
        await client.post(
            "/graphql", content=b"{bad", headers={"Content-Type": "application/json"}
        ),
    ]
    # then
    for response in answers:
        assert response.headers["cache-control"] == "no-store"


async def test_graphiql_is_off_by_default_in_production(database, gateway):
    # given: production settings that say nothing about GraphiQL, and ones that opt in
    production = {
        "environment": Environment.PRODUCTION,
        "jwt_secret": SecretStr("edge-test-secret-" + "x" * 40),
        "install_token_key": SecretStr("i" * 32),
    }
    default = make_settings(database, **production)
    opted_in = make_settings(database, **production, graphiql=True)
    html = {"Accept": "text/html"}
    # when
    async with (
        asgi_client(create_app(default, state=gateway), headers=html) as default_client,
        asgi_client(create_app(opted_in, state=gateway), headers=html) as opted_in_client,
    ):
        off = await default_client.get("/graphql")
        on = await opted_in_client.get("/graphql")
    # then
    assert (default.graphiql, make_settings(database).graphiql) == (False, True)
    assert off.status_code == 404
    assert off.json() == {"errors": [{"message": "Not Found", "extensions": {"code": "NOT_FOUND"}}]}
    assert (on.status_code, "GraphiQL" in on.text) == (200, True)
