"""One edge for every transport: HTTP and graphql-transport-ws refuse the same documents alike."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.auth import TokenVerifier, issue_development_token
from gateway.edge import limits
from gateway.edge.config import DEFAULT, PersistedMode, QueryLimits, RateLimit
from gateway.edge.documents import Edge
from gateway.edge.manifest import load_manifest, sha256
from gateway.settings import Environment
from gateway.state import GatewayState
from tenants.types import Role
from tests import world
from tests.gateway.conftest import with_edge
from tests.gateway.test_edge_trusted_documents import MANIFEST
from tests.graphql import asgi_client
from tests.websocket import Refused, connect

SECRET = SecretStr("edge-transports-secret-" + "x" * 40)
PRODUCTION = {"settings__environment": Environment.PRODUCTION, "settings__jwt_secret": SECRET}
HOME = next(body for body in load_manifest(MANIFEST).values() if body.startswith("query Home"))
LEVEL = "members(first: 1) { edges { node { branch { "
FOURTEEN_LEVELS = "{ " + LEVEL * 3 + "members(first: 1) { totalCount }" + " } } } }" * 3 + " }"
COSTLY = (
    "{ members(first: 100) { edges { node { branch { members(first: 100) { totalCount } } } } } }"
)
TRACK_EVENTS = 'mutation { trackEvents(events: [{type: "login"}]) { accepted } }'
INTROSPECTION = "{ __schema { queryType { name } } }"
FEATURES_CHANGED = "subscription { featuresChanged { key enabled } }"

# Per setting of the edge, the documents it refuses and the code it refuses each with.
SETTINGS: dict[str, dict[str, Any]] = {
    "trusted": {
        **PRODUCTION,
        "persisted": PersistedMode.TRUSTED,
        "trusted_manifest": str(MANIFEST),
    },
    "limits": {
        **PRODUCTION,
        "query_limits": {
            DEFAULT: QueryLimits(),
            Role.MEMBER.value: QueryLimits(max_aliases=1, max_root_fields=2, max_cost=1_000),
        },
    },
}
UNKNOWN_HASH = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
HOME_HASH = {"persistedQuery": {"version": 1, "sha256Hash": sha256(HOME)}}
REFUSED: dict[str, list[tuple[dict[str, Any], str]]] = {
    "trusted": [
        ({"query": "{ me { id } }"}, "OPERATION_NOT_ALLOWED"),
        ({"query": INTROSPECTION}, "OPERATION_NOT_ALLOWED"),
        ({"query": FOURTEEN_LEVELS}, "OPERATION_NOT_ALLOWED"),
        ({"query": COSTLY}, "OPERATION_NOT_ALLOWED"),
        ({"query": TRACK_EVENTS}, "OPERATION_NOT_ALLOWED"),
        ({"query": FEATURES_CHANGED}, "OPERATION_NOT_ALLOWED"),
        ({"extensions": UNKNOWN_HASH}, "PERSISTED_QUERY_NOT_FOUND"),
        ({"query": "{ me { id } }", "extensions": HOME_HASH}, "PERSISTED_QUERY_HASH_MISMATCH"),
    ],
    "limits": [
        ({"query": INTROSPECTION}, "INTROSPECTION_DISABLED"),
        ({"query": FOURTEEN_LEVELS}, "QUERY_TOO_DEEP"),
        ({"query": COSTLY}, "QUERY_TOO_COMPLEX"),
        ({"query": "{ a: __typename b: __typename }"}, "TOO_MANY_ALIASES"),
        ({"query": "{ __typename me { id } tenant { slug } }"}, "TOO_MANY_ROOT_FIELDS"),
        ({"query": "{ " + "__typename " * 4_001 + "}"}, "QUERY_TOO_LARGE"),
        ({"query": "query A { __typename } query B { __typename }"}, "BAD_REQUEST"),
        ({"query": "{ __typename }", "variables": [1]}, "BAD_REQUEST"),
        ({"extensions": {"persistedQuery": {"version": 2}}}, "BAD_REQUEST"),
        ({"extensions": {}}, "MISSING_QUERY"),
    ],
}
CASES = [
    pytest.param(setting, payload, code, id=f"{setting}-{code}-{index}")
    for setting, refused in REFUSED.items()
    for index, (payload, code) in enumerate(refused)
]
App = Callable[..., Starlette]
GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
RUNS_THE_SCHEMA = re.compile(r"schema\.(execute|execute_sync|subscribe|stream)\(")


@pytest.fixture
def edge_app(gateway: GatewayState) -> App:
    """``edge_app(**edge_overrides)`` → the in-process app with those edge settings."""

    def make(**overrides: Any) -> Starlette:
        settings = with_edge(gateway.settings, **overrides)
        state = dataclasses.replace(
            gateway, settings=settings, verifier=TokenVerifier(settings, gateway.registry)
        )
        return create_app(settings, state=state)

    return make


def member_token(app: Starlette, subject: str = str(world.YM_MEMBER_A)) -> str:
    """A member's token signed with ``app``'s key (in production too)."""
    signer = app.state.pilotgraph.settings.model_copy(
        update={"environment": Environment.DEVELOPMENT}
    )
    return issue_development_token(
        signer, subject=subject, roles=[Role.MEMBER], tenant=world.YEN_MO
    )


async def over_http(app: Starlette, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    async with asgi_client(app, token) as client:
        response = await client.post("/graphql", json=payload)
    return dict(response.json()["errors"][0])


async def over_websocket(app: Starlette, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    async with connect(app, token) as socket:
        messages = await socket.operation(payload)
    assert [m["type"] for m in messages] == ["error"]
    return dict(messages[0]["payload"][0])


@pytest.mark.parametrize(("setting", "payload", "code"), CASES)
async def test_http_and_websocket_refuse_alike(edge_app, setting, payload, code):
    # given
    app = edge_app(**SETTINGS[setting])
    token = member_token(app)
    # when
    http = await over_http(app, token, payload)
    websocket = await over_websocket(app, token, payload)
    # then
    assert http["extensions"]["code"] == code
    assert websocket == {"message": http["message"], "extensions": {"code": code}}


async def test_no_transport_runs_what_the_edge_refuses(edge_app, monkeypatch):
    # given: an edge that refuses every document
    def refuse(_edge: Edge, _query: str, _call: object) -> None:
        raise limits.QueryRefused("REFUSED", "Refused by the edge.")

    monkeypatch.setattr(Edge, "check", refuse)
    app = edge_app()
    token = member_token(app)
    # when
    answers = [
        await over_http(app, token, {"query": "{ __typename }"}),
        await over_websocket(app, token, {"query": "{ __typename }"}),
        await over_websocket(app, token, {"query": "mutation { __typename }"}),
        await over_websocket(app, token, {"query": FEATURES_CHANGED}),
    ]
    async with asgi_client(app, token) as client:
        get = await client.get(
            "/graphql",
            params={"query": "{ __typename }"},
            headers={"GraphQL-Require-Preflight": "1"},
        )
    # then
    refused = {"message": "Refused by the edge.", "extensions": {"code": "REFUSED"}}
    assert answers == [refused] * 4
    assert get.json()["errors"] == [refused]


async def test_websocket_operations_take_from_the_callers_bucket(edge_app):
    # given: two operations at once, then one more
    table = {DEFAULT: RateLimit(per_second=0.5, burst=2)}
    app = edge_app(rate_limits_enabled=True, rate_limits=table)
    token = member_token(app, subject="ws-rate")
    # when
    async with connect(app, token) as socket:
        answers = [await socket.operation({"query": "{ __typename }"}) for _ in range(3)]
    over_http_too = await over_http(app, token, {"query": "{ __typename }"})
    # then
    assert [a[0]["type"] for a in answers] == ["next", "next", "error"]
    limited = {
        "message": "Too many requests; retry in 2 s.",
        "extensions": {"code": "RATE_LIMITED"},
    }
    assert answers[2][0]["payload"] == [limited]
    assert over_http_too == limited


async def test_websocket_runs_queries_and_subscriptions(edge_app):
    # given
    app = edge_app()
    token = member_token(app)
    # when
    async with connect(app, token) as socket:
        query = await socket.operation({"query": "{ me { fullName } }"})
        await socket.send_json(
            {"id": "s", "type": "subscribe", "payload": {"query": FEATURES_CHANGED}}
        )
        first = await socket.receive_json()
        await socket.send_json({"id": "s", "type": "complete"})
    # then
    assert query[0]["payload"] == {"data": {"me": {"fullName": "Trần Thị Bình"}}}
    assert query[1]["type"] == "complete"
    assert first["type"] == "next"
    assert len(first["payload"]["data"]["featuresChanged"]) == 4


async def test_a_subscription_over_http_is_refused(edge_app):
    # given
    app = edge_app()
    # when
    answer = await over_http(app, member_token(app), {"query": FEATURES_CHANGED})
    # then
    assert answer == {
        "message": "A subscription cannot run over POST.",
        "extensions": {"code": "BAD_REQUEST"},
    }


async def test_a_websocket_with_a_bad_token_is_refused_at_the_upgrade(edge_app):
    # given
    app = edge_app()
    # when
    with pytest.raises(Refused) as refused:
        async with connect(app, "not-a-token"):
            pass
    # then
    assert refused.value.status == 401
    assert refused.value.body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_legacy_graphql_ws_protocol_is_not_spoken(edge_app):
    # given
    app = edge_app()
    # when
    with pytest.raises(ConnectionError) as closed:
        async with connect(app, member_token(app), subprotocol="graphql-ws"):
            pass
    # then: only graphql-transport-ws, whose handler goes through the edge, is spoken
    assert str(closed.value) == "closed 4406: Subprotocol not acceptable"


def test_only_the_edge_runs_the_schema():
    # when
    callers = {
        path.relative_to(GATEWAY).as_posix()
        for path in GATEWAY.rglob("*.py")
        if RUNS_THE_SCHEMA.search(path.read_text(encoding="utf-8"))
    }
    # then: a new transport has to go through gateway.edge.documents.Edge
    assert callers == {"edge/documents.py"}
