"""Every route of the app other than GraphQL (OFREP, events, CSV, console, probes, metrics),
as every caller and anonymously, naming each foreign tenant every way a request can."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from starlette.routing import Route

from gateway.view import GraphQLView
from tests.security import checks, principals
from tests.security.checks import Finding
from tests.security.principals import Caller
from tests.security.probes import aimed, attempt, authorised, foreign, gather, routes
from tests.security.transport import Request

ANONYMOUS = Caller("anonymous", {}, frozenset(), None)
PARAM = re.compile(r"{([^}:]+)(:[^}]*)?}")


def _path(template: str, target) -> str:
    return PARAM.sub(lambda m: target.flag if "key" in m[1] else target.slug, template)


def _bodies(target) -> list[object]:
    """What a POST may carry: an evaluation context naming the target, or a batch of events."""
    member = str(next(iter(target.ids.get("members", [])), uuid.uuid4()))
    event = {
        "id": str(uuid.uuid4()),
        "type": "app_installed",
        "deviceId": "probe-device",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "installToken": "forged",
    }
    return [{"context": {"targetingKey": member, "tenant": target.slug}}, [event]]


def _requests(route: Route, template: str, target, headers: dict[str, str]):
    params = {
        "tenant": target.slug,
        "slug": target.slug,
        "flag": target.flag,
        "from": "2026-11-01",
        "to": "2026-11-30",
    }
    path = _path(template, target)
    for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
        if method == "GET":
            yield Request("GET", path, headers, params=params)
        else:
            yield from (Request(method, path, headers, body) for body in _bodies(target))


def _jobs(arena, caller: Caller, slug: str, landed: list[str]):
    target = arena.target(slug)
    for template, route in routes(arena.app):
        if isinstance(route.endpoint, GraphQLView):
            continue
        for way, path, headers in aimed(template, slug):
            for request in _requests(route, path, target, authorised(arena, caller, headers)):
                operation = f"{request.method} {template} via {way}"
                yield attempt(arena, caller, operation, request, landed, streamed=True)


async def test_no_endpoint_reads_or_writes_a_foreign_tenant(arena):
    # given: every caller and an anonymous one, every route, every foreign tenant
    findings: list[Finding] = []
    for caller in [ANONYMOUS, *principals.callers()]:
        before, landed = await arena.checksums(), []
        for slug in foreign(caller, arena.truth.province_of):
            # when
            findings += await gather(_jobs(arena, caller, slug, landed))
        written = checks.foreign_writes(before, await arena.checksums(), caller.cover)
        if written:
            detail = f"changed {', '.join(written)}; accepted: {'; '.join(landed)[:1500]}"
            findings.append(Finding("write", caller.name, "endpoints", "its requests", detail))
    # then
    assert not findings, checks.report(findings)
