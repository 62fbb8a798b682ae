"""Traces: a request's spans join the caller's trace, chain server → operation → SQL, and carry
no argument or variable value; log lines name the trace and span they were written in."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.trace import SpanKind

from gateway.observability.logs import configure_logging
from tenants.types import Role
from tests import world
from tests.graphql import gql
from tests.tracing import in_memory_tracing, spans_named, traced_client

HOME = "query Home { me { fullName } tenant { slug } }"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"
INSTALL_TOKEN = "it1.secret-install-token-4f2a9c"
SEARCH_TEXT = "Nguyễn Thị Hương"
SEARCH_LITERAL = "Trần Văn Đức"
MEMBERS = f"""
query Members($search: String) {{
  members(first: 5, search: $search) {{ totalCount }}
  literal: members(first: 5, search: "{SEARCH_LITERAL}") {{ totalCount }}
}}
"""
TRACK = """
mutation Track($events: [EventInput!]!) {
  trackEvents(events: $events) { accepted refused results { code } }
}
"""
EVENT = {
    "type": "screen_viewed",
    "id": "00000000-0000-4000-8000-0000000000f1",
    "timestamp": "2026-11-25T02:00:00+00:00",
    "deviceId": "phone",
    "screen": "home",
    "installToken": INSTALL_TOKEN,
}


@pytest.fixture
async def client(database, gateway) -> AsyncIterator[httpx.AsyncClient]:
    async for made in traced_client(database, gateway):
        yield made


@pytest.fixture
def member_headers(token):
    subject = str(world.YM_MEMBER_A)
    return {"Authorization": f"Bearer {token(Role.MEMBER, tenant=world.YEN_MO, subject=subject)}"}


async def test_spans_continue_the_callers_trace_server_operation_sql(client, member_headers):
    # given
    exporter, _ = in_memory_tracing()
    exporter.clear()
    # when
    status, _ = await gql(client, HOME, headers={**member_headers, "traceparent": TRACEPARENT})
    # then
    spans = exporter.get_finished_spans()
    [server] = [span for span in spans if span.kind is SpanKind.SERVER]
    [operation] = spans_named(spans, "query Home")
    statements = [span for span in spans if span.attributes.get("db.statement")]
    assert status == 200
    assert {format(span.context.trace_id, "032x") for span in spans} == {TRACE_ID}
    assert format(server.parent.span_id, "016x") == CALLER_SPAN_ID
    assert server.name == "POST /graphql"
    assert server.attributes["http.route"] == "/graphql"
    assert server.attributes["http.response.status_code"] == 200
    assert operation.parent.span_id == server.context.span_id
    assert operation.attributes["graphql.operation.name"] == "Home"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert "graphql.document" not in operation.attributes
    assert statements
    assert all(span.attributes.get("db.system") for span in statements)
    assert {span.parent.span_id for span in statements} == {operation.context.span_id}


async def test_a_request_without_traceparent_starts_a_trace(client):
    # given
    exporter, _ = in_memory_tracing()
    exporter.clear()
    # when
    response = await client.get("/healthz")
    # then
    [server] = exporter.get_finished_spans()
    assert response.status_code == 200
    assert server.parent is None
    assert server.name == "GET /healthz"
    assert server.kind is SpanKind.SERVER


async def test_no_span_carries_an_argument_or_variable_value(client, token, member_headers):
    # given
    exporter, _ = in_memory_tracing()
    exporter.clear()
    admin = {"Authorization": f"Bearer {token(Role.TENANT_ADMIN, tenant=world.YEN_MO)}"}
    # when
    searched, _ = await gql(client, MEMBERS, {"search": SEARCH_TEXT}, headers=admin)
    tracked, body = await gql(client, TRACK, {"events": [EVENT]}, headers=member_headers)
    rest = await client.post("/v1/events", json=[EVENT], headers=member_headers)
    # then
    assert (searched, tracked, rest.status_code) == (200, 200, 200)
    assert body["data"]["trackEvents"]["results"] == [{"code": "INSTALL_TOKEN_INVALID"}]
    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert {"query Members", "mutation Track", "POST /v1/events"} <= names
    exported = json.dumps(
        [
            [span.name, dict(span.attributes), [dict(e.attributes) for e in span.events]]
            for span in spans
        ],
        ensure_ascii=False,
    )
    for value in (INSTALL_TOKEN, SEARCH_TEXT, SEARCH_LITERAL, "Hương", "Đức"):
        assert value not in exported
    assert not any(key.startswith("graphql.param") for span in spans for key in span.attributes)


async def test_log_lines_name_the_current_trace_and_span(client, member_headers, capsys):
    # given
    exporter, _ = in_memory_tracing()
    exporter.clear()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(json=True)
    try:
        # when
        await gql(client, HOME, headers={**member_headers, "traceparent": TRACEPARENT})
    finally:
        root.handlers, _ = saved[0], root.setLevel(saved[1])
    # then
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    access = next(line for line in lines if line.get("event") == "request")
    [server] = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert access["trace_id"] == TRACE_ID
    assert access["span_id"] == format(server.context.span_id, "016x")
