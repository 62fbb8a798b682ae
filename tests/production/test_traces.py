"""Traces reach the OTLP/HTTP receiver: an incoming ``traceparent`` is continued (the gateway's
spans join the caller's trace under the caller's span), and no span carries an argument value."""

from __future__ import annotations

import hashlib
import secrets

import httpx

from tests.otlp import ReceivedSpan
from tests.production.conftest import Profile, bearer
from tests.production.database import ROOT

HANDBOOK = ROOT / "clients" / "trusted-documents" / "handbook-app"
DOCUMENTS = (HANDBOOK / "Documents.graphql").read_text()
# A search text no span may carry: resolver arguments are members' input, not telemetry.
PROBE = "NQ-" + secrets.token_hex(6)


def _persisted(text: str) -> dict[str, object]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def _documents(profile: Profile, traceparent: str) -> httpx.Response:
    body = {"variables": {"first": 3, "search": PROBE}, "extensions": _persisted(DOCUMENTS)}
    headers = {**bearer(profile.realm.access_token("member")), "traceparent": traceparent}
    async with httpx.AsyncClient(base_url=profile.url, timeout=30) as client:
        return await client.post("/graphql", json=body, headers=headers)


def _in_trace(trace_id: str) -> object:
    def done(spans: list[ReceivedSpan]) -> bool:
        joined = [s for s in spans if s.trace_id == trace_id]
        return any(s.attributes.get("db.system") or s.name.startswith("SELECT") for s in joined)

    return done


def _documents_span(spans: list[ReceivedSpan]) -> bool:
    return any("Documents" in s.name for s in spans)


async def test_spans_arrive_and_carry_no_argument_values(profile: Profile) -> None:
    # when
    response = await _documents(profile, f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01")
    # then
    assert response.status_code == 200, response.text
    spans = profile.receiver.wait_for(_documents_span)
    leaked = [(s.name, k) for s in spans for k, v in s.attributes.items() if PROBE in str(v)]
    assert leaked == []
    params = [(s.name, k) for s in spans for k in s.attributes if k.startswith("graphql.param")]
    assert params == []
    assert {s.resource.get("service.name") for s in spans} == {"pilotgraph"}


async def test_a_callers_trace_is_continued(profile: Profile) -> None:
    # given: a caller (a router, the app) with its own trace and span
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    # when
    response = await _documents(profile, f"00-{trace_id}-{parent_id}-01")
    # then
    assert response.status_code == 200, response.text
    spans = profile.receiver.wait_for(_in_trace(trace_id))  # type: ignore[arg-type]
    joined = [s for s in spans if s.trace_id == trace_id]
    ids = {s.span_id for s in joined}
    roots = [(s.name, s.parent_span_id) for s in joined if s.parent_span_id not in ids]
    assert {parent for _, parent in roots} == {parent_id}, roots
    assert len(joined) >= 3, [s.name for s in joined]  # the server span, GraphQL's, SQL's
