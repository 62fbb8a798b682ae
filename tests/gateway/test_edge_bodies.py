"""Every route that takes a body: one size limit (413) and one JSON nesting limit (400), coded.

The routes are read from the app, so a new POST route is covered without editing this file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.routing import BaseRoute, Mount, Route

from gateway.app import create_app
from gateway.edge.config import EdgeSettings
from gateway.edge.http_spec import MAX_JSON_DEPTH
from tenants.types import Role
from tests import world
from tests.websocket import connect

DEFAULTS = EdgeSettings()
ISSUER = {"settings__oidc_issuer": "http://127.0.0.1:9"}  # configured, never reached


def post_paths(routes: list[BaseRoute], prefix: str = "") -> list[str]:
    """Every path the app answers POST on, path parameters filled in."""
    paths: list[str] = []
    for route in routes:
        if isinstance(route, Mount):
            paths += post_paths(route.routes, prefix + route.path)
        elif isinstance(route, Route) and "POST" in (route.methods or ()):
            paths.append(prefix + route.path.replace("{key:path}", "handbook"))
        elif isinstance(route, Route) and route.methods is None:  # any method: an ASGI endpoint
            paths.append(prefix + route.path)
    return paths


POST_PATHS = sorted(
    {*post_paths(create_app().routes), "/t/yen-mo/v1/events", "/t/yen-mo/v1/install-tokens"}
)


def code_of(response) -> str:
    """The code of a JSON refusal: GraphQL-shaped, or OFREP's ``errorCode``."""
    body = response.json()
    if "errors" in body:
        return str(body["errors"][0]["extensions"]["code"])
    return str(body["errorCode"])


@pytest.fixture
def member_token(token):
    return token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))


def test_the_routes_taking_a_body_are_all_found():
    # then: GraphQL, OFREP single and bulk, event ingest, install tokens, the console's OIDC login
    assert set(POST_PATHS) >= {
        "/admin/api/oidc/refresh",
        "/admin/api/oidc/token",
        "/graphql",
        "/ofrep/v1/evaluate/flags",
        "/ofrep/v1/evaluate/flags/handbook",
        "/t/yen-mo/v1/events",
        "/t/yen-mo/v1/install-tokens",
        "/v1/events",
        "/v1/install-tokens",
    }


@pytest.mark.parametrize("path", POST_PATHS)
async def test_a_declared_body_over_the_limit_is_413_before_anything_reads_it(
    edge_client, member_token, path
):
    # given
    client = edge_client(member_token, **ISSUER)
    limit = DEFAULTS.body_limit_for(path)
    # when
    response = await client.post(
        path, content=b" " * (limit + 1), headers={"content-type": "application/json"}
    )
    # then
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": f"A request carries at most {limit} bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }


@pytest.mark.parametrize("path", POST_PATHS)
async def test_a_streamed_body_over_the_limit_is_413_while_it_streams(
    edge_client, member_token, path
):
    # given: chunked, no Content-Length; more chunks than the limit needs
    client = edge_client(member_token, **ISSUER)
    limit = DEFAULTS.body_limit_for(path)
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(limit // 65_536 + 20):
            sent += 65_536
            yield b" " * 65_536

    # when
    response = await client.post(
        path, content=chunks(), headers={"content-type": "application/json"}
    )
    # then
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert code_of(response) == "PAYLOAD_TOO_LARGE"


def test_event_ingest_keeps_its_own_documented_limit():
    # then: 1 MiB for /v1/events (and its tenant paths), 1 KiB for install tokens; 1 MB elsewhere
    assert DEFAULTS.body_limit_for("/t/kim-son/v1/events") == 1024 * 1024
    assert DEFAULTS.body_limit_for("/t/kim-son/v1/install-tokens") == 1024
    assert DEFAULTS.body_limit_for("/ofrep/v1/evaluate/flags") == DEFAULTS.max_body_bytes


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("opening", ["[", '{"a":'])
async def test_json_nested_too_deep_is_400_with_a_code(edge_client, member_token, path, opening):
    # given: as deep as the path's size limit allows (beyond Python's json recursion for "[")
    client = edge_client(member_token, **ISSUER)
    body = opening * min(100_000, DEFAULTS.body_limit_for(path) // len(opening))
    # when
    response = await client.post(
        path, content=body.encode(), headers={"content-type": "application/json"}
    )
    # then
    assert response.status_code == 400
    assert code_of(response) == "JSON_TOO_DEEP"


@pytest.mark.parametrize("path", POST_PATHS)
async def test_json_at_the_nesting_limit_is_not_refused_for_depth(edge_client, member_token, path):
    # given
    client = edge_client(member_token, **ISSUER)
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    # when
    response = await client.post(
        path, content=body.encode(), headers={"content-type": "application/json"}
    )
    # then: whatever the route makes of it, not a depth refusal nor a 5xx
    assert response.status_code < 500
    if response.status_code >= 400:
        assert code_of(response) != "JSON_TOO_DEEP"


async def test_get_variables_nested_too_deep_are_400_with_a_code(edge_client, member_token):
    # given
    client = edge_client(member_token)
    # when
    response = await client.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": '{"a":' * 2_000},
        headers={"GraphQL-Require-Preflight": "1"},
    )
    # then
    assert response.status_code == 400
    assert code_of(response) == "JSON_TOO_DEEP"


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "' + "[" * 500 + '"}',  # brackets inside a string do not nest
        '"' + "[" * 500 + '"',  # and none are left once strings are set aside
        '["' + "\\\\" * 200 + '", ' + '"{' * 100 + '"]',
        '["\\"[[[[[[", {"a": "]]]]"}]',
    ],
)
async def test_brackets_inside_strings_do_not_count_as_nesting(edge_client, member_token, body):
    # given
    client = edge_client(member_token)
    # when
    response = await client.post(
        "/graphql", content=body.encode(), headers={"content-type": "application/json"}
    )
    # then
    assert response.status_code < 500
    assert code_of(response) != "JSON_TOO_DEEP"


async def test_a_websocket_message_nested_too_deep_closes_the_socket_as_malformed(
    gateway, member_token
):
    # given
    app = create_app(gateway.settings, state=gateway)
    # when
    async with connect(app, member_token) as socket:
        await socket.to_app.put({"type": "websocket.receive", "text": "[" * 5_000})
        with pytest.raises(ConnectionError) as closed:
            await socket.receive_json()
    # then: graphql-transport-ws closes a message it cannot parse with 4400
    assert str(closed.value).startswith("closed 4400")
