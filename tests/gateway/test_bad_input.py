"""Bad input gets a clear error with a code; unexpected failures are masked with an error id."""

from __future__ import annotations

import logging

import pytest

from tenants.handbook import service
from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.graphql import error_codes, gql


@pytest.fixture
def admin(client_for, token):
    return client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "message"),
    [
        (
            {"content": b"{bad", "headers": {"content-type": "application/json"}},
            400,
            "MALFORMED_JSON",
            "Unable to parse request body as JSON",
        ),
        (
            {"content": b"query", "headers": {"content-type": "text/plain"}},
            400,
            "UNSUPPORTED_CONTENT_TYPE",
            "Unsupported content type",
        ),
        (
            {"json": {"variables": {}}},
            400,
            "MISSING_QUERY",
            "No GraphQL query found in the request",
        ),
    ],
)
async def test_malformed_requests_answer_json_with_code(admin, kwargs, status, code, message):
    # when
    response = await admin.post("/graphql", **kwargs)
    # then
    assert response.status_code == status
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": code}}]}


async def test_syntax_and_validation_errors_carry_codes(admin):
    # when
    _, syntax = await gql(admin, "{ members(first: ")
    _, unknown = await gql(admin, "{ nosuch }")
    _, coercion = await gql(
        admin, "query($f: Int!) { members(first: $f) { totalCount } }", {"f": "many"}
    )
    # then
    assert error_codes(syntax) == ["GRAPHQL_PARSE_FAILED"]
    assert error_codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]
    assert unknown["errors"][0]["message"] == "Cannot query field 'nosuch' on type 'Query'."
    assert error_codes(coercion) == ["BAD_USER_INPUT"]


async def test_unknown_path_is_json_404(admin):
    # when
    response = await admin.get("/nowhere")
    # then
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_unexpected_error_is_masked_and_logged_with_its_id(admin, monkeypatch, caplog):
    # given: the notices service breaks unexpectedly
    async def broken(**_kwargs):
        raise RuntimeError("database exploded: password=hunter2")

    monkeypatch.setattr(service, "list_notices", broken)
    # when
    with caplog.at_level(logging.ERROR, logger="pilotgraph.errors"):
        _, body = await gql(admin, "{ notices { title } }")
    # then
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error["message"] == f"Unexpected error; quote error id {error_id}."
    assert "hunter2" not in str(body)
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)


async def test_graphiql_served_in_development_and_off_when_configured(database, gateway):
    # given
    import httpx

    from gateway.app import create_app

    def client(app):
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Accept": "text/html"},
        )

    on_app = create_app(gateway.settings, state=gateway)
    off_app = create_app(make_settings(database, graphiql=False), state=gateway)
    # when
    async with client(on_app) as on_client, client(off_app) as off_client:
        on = await on_client.get("/graphql")
        off = await off_client.get("/graphql")
    # then
    assert on.status_code == 200
    assert "GraphiQL" in on.text
    assert off.status_code == 404
    assert off.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
