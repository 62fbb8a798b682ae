"""The planned lane answers exactly as the full stack would, or leaves the request to it.

Three apps, each on its own engine over the same committed data, as ``pilotgraph serve`` runs
them: the lane (planned operations and the lane on), the planned path through the full stack
(the lane off) and the schema (planned operations off). The cases are generated from the
planner's own plans (every planned manifest document, so a new one is covered without editing
this file), every caller of the planner's world, each feature state, each way of sending the
document (by text, by hash), the Accept and operation-name variants, the headers that send a
request the generic way, and each edge profile (development, trusted documents only, limits that
refuse the documents). Every answer must be byte-identical (status, body and headers, the date
and request id aside) to the full stack's planned answer, equal as JSON to the schema's, and the
lane must have answered exactly the successes it may take.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import db.tenant_connections
import gateway.lane
from gateway.app import build_state, create_app
from gateway.edge.config import EdgeSettings, PersistedMode, QueryLimits, RateLimit
from gateway.edge.manifest import CLIENTS_MANIFEST, sha256
from tests import world
from tests.conftest import make_settings
from tests.graphql import asgi_client
from tests.planner.conftest import FEATURE_STATES, set_feature_state
from tests.planner.world import CALLERS, Caller

# Variables a document's plan is asked with; a document not listed gets none (it may then answer
# an error on every path, which must be equal too).
VARIABLES: dict[str, dict[str, Any]] = {
    "Meetings": {"when": "UPCOMING", "first": 5},
    "Notices": {"first": 5},
    "Documents": {"first": 20, "search": "họp"},
    "Members": {"first": 4},
}
PROFILES: dict[str, dict[str, Any]] = {
    "development": {},
    "trusted": {"persisted": PersistedMode.TRUSTED, "trusted_manifest": str(CLIENTS_MANIFEST)},
    "tight limits": {"query_limits": {"default": QueryLimits(max_depth=2)}},
}
IGNORED_HEADERS = {"date", "x-request-id"}


@dataclass
class Apps:
    lane: Any
    stack: Any
    schema: Any
    plans: dict[str, str]  # operation name → document
    answered: int = 0
    states: list[Any] = field(default_factory=list)


async def _apps(database: Any, edge: dict[str, Any], monkeypatch: Any) -> Apps:
    options = [
        {"planned_operations": True, "planned_lane": True},
        {"planned_operations": True, "planned_lane": False},
        {"planned_operations": False},
    ]
    states = [build_state(make_settings(database, edge=EdgeSettings(**edge), **o)) for o in options]
    for state in states:
        state.clock = lambda: world.NOW
        await state.registry.reload(state.sessionmaker)
    apps = [create_app(state.settings, state=state) for state in states]
    lane, stack, schema = apps
    plans = _planned_documents()
    found = Apps(lane, stack, schema, plans, states=states)
    fetch = gateway.lane.fetch_pooled

    async def counted(*args: Any) -> str:
        found.answered += 1
        return await fetch(*args)

    monkeypatch.setattr(gateway.lane, "fetch_pooled", counted)
    return found


def _planned_documents() -> dict[str, str]:
    """Every manifest document the planner plans, by operation name."""
    from gateway.edge.manifest import load_manifest
    from planner.plans import Planner
    from schema.root import schema

    planner = Planner.for_documents(schema._schema, load_manifest(CLIENTS_MANIFEST))
    return {plan.name or "anonymous": text for text, plan in planner.plans.items()}


@pytest.fixture(params=sorted(PROFILES))
async def apps(request, postgres_only, database, monkeypatch) -> AsyncIterator[Apps]:
    found = await _apps(database, PROFILES[request.param], monkeypatch)
    yield found
    for state in found.states:
        await db.tenant_connections.close_tenant_connections(state.engine)
        await state.engine.dispose()


def _client(app: Any, caller: Caller, token: Any, headers: dict[str, str]) -> Any:
    if caller.name == "anonymous":
        return asgi_client(app, None, {"X-Tenant": world.YEN_MO, **headers})
    signed = token(
        caller.role, tenant=caller.tenant, subject=caller.subject, province=caller.province
    )
    extra = {"X-Tenant": caller.acting_on} if caller.acting_on else {}
    return asgi_client(app, signed, {**extra, **headers})


async def _send(app: Any, caller: Caller, token: Any, body: bytes, headers: dict[str, str]):
    async with _client(app, caller, token, headers) as client:
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json", **headers}
        )
    kept = sorted((k, v) for k, v in response.headers.items() if k not in IGNORED_HEADERS)
    return response.status_code, response.content, kept


def _json(content: bytes) -> Any:
    return json.loads(content)


async def assert_lane_agrees(
    apps: Apps, caller: Caller, token: Any, body: dict[str, Any], headers: dict[str, str]
) -> bool:
    """Send one request to the three apps; return whether the lane answered it."""
    raw = json.dumps(body).encode()
    before = apps.answered
    lane = await _send(apps.lane, caller, token, raw, headers)
    answered = apps.answered > before
    stack = await _send(apps.stack, caller, token, raw, headers)
    schema = await _send(apps.schema, caller, token, raw, headers)
    # then: the full stack's planned answer, byte for byte and header for header
    assert lane[0] == stack[0], (caller.name, body, headers, lane, stack)
    assert lane[1] == stack[1], (caller.name, body, headers)
    assert lane[2] == stack[2], (caller.name, body, headers)
    # and the schema's answer as JSON (its text is json.dumps', not PostgreSQL's)
    assert lane[0] == schema[0], (caller.name, body)
    assert _json(lane[1]) == _json(schema[1]), (caller.name, body)
    success = lane[0] == 200 and "errors" not in _json(lane[1])
    assert not answered or success, (caller.name, body, lane)
    return answered


def _bodies(name: str, text: str) -> list[dict[str, Any]]:
    variables = VARIABLES.get(name, {})
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}
    return [
        {"query": text, "variables": variables},
        {"variables": variables, "extensions": persisted},
        {"query": text, "variables": variables, "operationName": name},
        {"query": text, "variables": variables, "operationName": "Elsewhere"},
    ]


@pytest.mark.parametrize("state", sorted(FEATURE_STATES))
async def test_every_planned_document_caller_and_form_agrees_with_the_stack(apps, token, state):
    # given
    for app_state in apps.states:
        set_feature_state(app_state, state)
    answered = 0
    cases = itertools.product(sorted(apps.plans.items()), CALLERS)
    for (name, text), caller in cases:
        for body in _bodies(name, text):
            # when / then
            answered += await assert_lane_agrees(apps, caller, token, body, {})
    # the lane took requests (with tight limits, only the documents within them)
    assert answered > 0


GENERIC_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Accept": st.sampled_from(
            [
                "application/json",
                "application/graphql-response+json",
                "*/*",
                "text/html",
                "application/graphql-response+json;q=0, application/json",
            ]
        ),
        "Origin": st.sampled_from(["https://app.example", "null"]),
        "X-Tenant": st.sampled_from([world.YEN_MO, world.KIM_SON, "no-such-tenant"]),
        "X-Router-Token": st.just("not-the-router"),
        "Authorization": st.sampled_from(["Bearer", "Basic abc", "Bearer not.a.jwt", "bearer "]),
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(headers=GENERIC_HEADERS, which=st.integers(min_value=0), who=st.integers(min_value=0))
async def test_headers_that_change_the_answer_give_the_stacks_answer(
    apps, token, headers, which, who
):
    # given: a planned document, sent with drawn headers by a drawn caller
    name, text = sorted(apps.plans.items())[which % len(apps.plans)]
    caller = CALLERS[who % len(CALLERS)]
    for body in _bodies(name, text)[:2]:
        # when / then
        answered = await assert_lane_agrees(apps, caller, token, body, headers)
        if {"Origin", "X-Tenant", "X-Router-Token", "Authorization"} & set(headers):
            assert not answered, headers  # those go the generic way, whatever they say


async def test_a_malformed_or_batched_body_gives_the_stacks_answer(apps, token):
    # given
    text = next(iter(apps.plans.values()))
    member = CALLERS[0]
    bodies = [
        b"",
        b"{",
        b"[]",
        json.dumps([{"query": text}]).encode(),
        b'"just a string"',
        json.dumps({"query": text, "variables": "nope"}).encode(),
        json.dumps({"query": text, "extensions": {"persistedQuery": {"version": 2}}}).encode(),
        b"[" * 100 + b"]" * 100,
    ]
    for raw in bodies:
        # when
        before = apps.answered
        lane = await _send(apps.lane, member, token, raw, {})
        stack = await _send(apps.stack, member, token, raw, {})
        # then
        assert apps.answered == before, raw
        assert lane == stack, raw


@pytest.mark.parametrize("max_depth", [12, 2])
async def test_a_request_costs_one_rate_limit_token_on_either_way(
    postgres_only, database, monkeypatch, token, max_depth
):
    # given: three requests a minute per caller; with max_depth 2 the lane takes a token, then
    # leaves the deeper documents to the stack, which must not take another
    edge = {
        "rate_limits_enabled": True,
        "rate_limits": {"default": RateLimit(per_second=1 / 60, burst=3)},
        "query_limits": {"default": QueryLimits(max_depth=max_depth)},
    }
    apps = await _apps(database, edge, monkeypatch)
    member = CALLERS[0]
    documents = sorted(apps.plans.items()) * 2
    try:
        for app in (apps.lane, apps.stack):
            statuses = []
            for name, text in documents[:5]:
                body = json.dumps({"query": text, "variables": VARIABLES.get(name, {})}).encode()
                statuses.append((await _send(app, member, token, body, {}))[0])
            # then: the same statuses, three tokens spent on five requests
            assert statuses[3:] == [429, 429], statuses
            assert 429 not in statuses[:3], statuses
    finally:
        for state in apps.states:
            await db.tenant_connections.close_tenant_connections(state.engine)
            await state.engine.dispose()
