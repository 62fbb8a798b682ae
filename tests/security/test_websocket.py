"""The same generated reads over graphql-transport-ws: no other tenant's data, and no document
the HTTP edge refuses for its size runs over a WebSocket either (writes: test_writes)."""

from __future__ import annotations

from tests.security import checks, principals
from tests.security.checks import Answer, Finding
from tests.security.operations import operations
from tests.security.oversized import oversized
from tests.security.probes import aimed, authorised, foreign, judge
from tests.security.transport import Request, Socket, send

# One tenant per province and the tenantless province roles: every role, both provinces.
HOMES = ("yen-mo", "nga-son", None)


def ws_callers() -> list[principals.Caller]:
    return [c for c in principals.callers() if c.home in HOMES]


async def session(arena, caller, way: str, path: str, headers: dict, ops) -> list[Finding]:
    socket = Socket(arena.app, path, authorised(arena, caller, headers))
    try:
        refused = await socket.open()
        if refused is not None:
            return judge(
                arena, caller, f"ws connect via {way}", Request("WS", path, headers), refused
            )
        findings = []
        for op in ops:
            answer = await socket.run(op.text)
            request = Request("WS", path, headers, {"query": op.text})
            findings += judge(arena, caller, f"ws {op.kind} {op.field} via {way}", request, answer)
        return findings
    finally:
        await socket.close()


async def _caller(arena, caller) -> list[Finding]:
    findings = []
    for slug in foreign(caller, arena.truth.province_of):
        target = arena.target(slug)
        reads = operations("query", target) + operations("subscription", target)
        for way, path, headers in aimed("/graphql", slug):
            findings += await session(arena, caller, way, path, headers, reads)
    return findings


async def test_no_websocket_operation_reaches_a_foreign_tenant(arena):
    # given: every role of both provinces, subscribed over graphql-transport-ws
    findings: list[Finding] = []
    for caller in ws_callers():
        # when
        findings += await _caller(arena, caller)
    # then
    assert not findings, checks.report(findings)


async def _ws_answer(arena, caller, query: str) -> Answer:
    socket = Socket(arena.app, "/graphql", authorised(arena, caller, {}))
    try:
        return await socket.open() or await socket.run(query)
    finally:
        await socket.close()


async def test_websocket_refuses_what_http_refuses_for_its_size(arena):
    # given: documents over each of the edge's limits, refused over HTTP
    findings: list[Finding] = []
    for caller in ws_callers():
        limits = arena.settings.edge.limits_for(frozenset(caller.claims["roles"]))
        for name, query in oversized(limits).items():
            request = Request("POST", "/graphql", authorised(arena, caller, {}), {"query": query})
            over_http = await send(arena.client, request)
            # when
            over_ws = await _ws_answer(arena, caller, query)
            # then: what the edge refuses over HTTP runs nowhere
            if not checks.has_data(over_http) and checks.has_data(over_ws):
                detail = f"HTTP {over_http.body}; over WS it ran"
                findings.append(
                    Finding("ws_limits", caller.name, name, f"WS {query[:200]}", detail)
                )
    assert not findings, checks.report(findings)
