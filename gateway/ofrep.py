"""OFREP (OpenFeature Remote Evaluation Protocol): any OpenFeature SDK reads PilotGraph's flags.

``POST /ofrep/v1/evaluate/flags/{key}`` and bulk ``POST /ofrep/v1/evaluate/flags``. The member
and tenant come from the bearer token (tenancy middleware); a ``targetingKey`` in the context
must be that member or absent. When a rule matches on branch, the member's branch is read from
their tenant (cached briefly: :mod:`gateway.member_branches`). The bulk ``ETag`` covers the flag
configuration and the context; ``If-None-Match`` is compared as RFC 9110 says (weakly, a list, or
``*``). 429 with ``Retry-After`` comes from the edge rate limits in front of every route.

Reasons are those OFREP lists (STATIC, TARGETING_MATCH, SPLIT, DISABLED, UNKNOWN), plus
OpenFeature's STALE for the fallback below. PilotGraph's DEFAULT (the flag has targeting, none of
it applied) answers UNKNOWN, not STATIC: STATIC tells a provider the value is the same for every
context, and providers may cache it as such.

Evaluation never fails because of the database: flags come from the in-process snapshot, and when
the member's branch cannot be read in time the answer is the fallback (rules on branch do not
match), still 200 with a value, ``reason: "STALE"`` (OpenFeature: "non-authoritative or possibly
out of date") and ``metadata`` ``stale: true`` and ``unavailableAttributes: "branch"``. Not an
``errorCode``: that would make the provider drop the value for the application's default.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.edge.http_spec import EdgeRefusal, check_json_depth
from gateway.member_branches import BranchUnavailable
from gateway.responses import error_response
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from rollout.evaluation import (
    BRANCH,
    ErrorCode,
    Evaluation,
    EvaluationContext,
    Reason,
    Snapshot,
    evaluate,
)
from tenants.errors import TenantRequired

OFREP_REASONS: Mapping[Reason, str] = MappingProxyType(
    {
        Reason.STATIC: "STATIC",
        Reason.TARGETING_MATCH: "TARGETING_MATCH",
        Reason.SPLIT: "SPLIT",
        Reason.DISABLED: "DISABLED",
        Reason.DEFAULT: "UNKNOWN",
        Reason.ERROR: "UNKNOWN",  # an error answers with errorCode; never a success's reason
    }
)
# OpenFeature's reason for the fallback: the value is served, but may not be the authoritative one.
STALE = "STALE"
# An entity tag in If-None-Match, weak or strong: the quoted opaque tag is what is compared.
ENTITY_TAG = re.compile(r'(?:W/)?("[^"]*")')


class OfrepError(Exception):
    def __init__(self, status: int, code: str, details: str) -> None:
        super().__init__(details)
        self.status, self.code, self.details = status, code, details


async def _context(request: Request, snapshot: Snapshot) -> EvaluationContext:
    """The evaluation context: who the token says, checked against the body's context.

    The member's branch is read only when a rule of ``snapshot`` (the one the caller evaluates)
    matches on branch.
    """
    scope: RequestScope = request.scope["state"][SCOPE_KEY]
    principal = scope.principal
    assert principal is not None  # checked by the endpoints
    context = _body_context(await request.body() or b"{}")
    if principal.service:
        tenant_id = scope.tenant.id if scope.tenant else None
        return await _service_context(request, context.get("targetingKey"), tenant_id)
    if context.get("targetingKey") not in (None, principal.subject):
        raise OfrepError(
            400, "INVALID_CONTEXT", "targetingKey must be the signed-in member or absent."
        )
    who = EvaluationContext(
        tenant=scope.tenant.id if scope.tenant else None,
        member=principal.subject,
        roles=frozenset(str(role) for role in principal.roles),
    )
    if not snapshot.uses_branch or who.tenant is None:
        return who
    return await _with_branch(request, who, tenant_id=who.tenant, subject=principal.subject)


async def _service_context(
    request: Request, targeting_key: Any, tenant_id: str | None
) -> EvaluationContext:
    """A service credential's context: any member of the credential's scope, checked."""
    if tenant_id is None:
        raise OfrepError(400, "TENANT_REQUIRED", TenantRequired().message)
    if targeting_key is None:
        return EvaluationContext(tenant=tenant_id, member=None)
    if not isinstance(targeting_key, str):
        raise OfrepError(400, "INVALID_CONTEXT", "targetingKey must be a string.")
    state: GatewayState = request.app.state.pilotgraph
    try:
        branch = await state.branches.branch_of(
            state.sessionmaker, tenant_id=tenant_id, subject=targeting_key
        )
    except BranchUnavailable as exc:
        raise OfrepError(503, "UNAVAILABLE", "The member could not be checked; retry.") from exc
    if branch is None:
        raise OfrepError(
            403, "TARGETING_KEY_NOT_IN_SCOPE", f"targetingKey is no member of tenant {tenant_id!r}."
        )
    return EvaluationContext(tenant=tenant_id, member=targeting_key, branch=branch)


def _body_context(raw: bytes) -> dict[str, Any]:
    """The body's ``context`` object; refused when the body is too deep, not JSON or no object."""
    try:
        check_json_depth(raw)
    except EdgeRefusal as exc:
        raise OfrepError(exc.status, exc.code, exc.message) from exc
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise OfrepError(400, "PARSE_ERROR", "The body is not JSON.") from exc
    context = body.get("context", {}) if isinstance(body, dict) else None
    if not isinstance(context, dict):
        raise OfrepError(400, "INVALID_CONTEXT", "context must be a JSON object.")
    return context


async def _with_branch(
    request: Request, who: EvaluationContext, *, tenant_id: str, subject: str
) -> EvaluationContext:
    """``who`` with the member's branch, or marked as missing it when it cannot be read in time."""
    state: GatewayState = request.app.state.pilotgraph
    try:
        branch = await state.branches.branch_of(
            state.sessionmaker, tenant_id=tenant_id, subject=subject
        )
    except BranchUnavailable:
        return replace(who, unavailable=frozenset({BRANCH}))
    return replace(who, branch=branch)


def _success(result: Evaluation) -> dict[str, Any]:
    metadata: dict[str, Any] = {"version": result.version}
    if result.stale:
        metadata |= {"stale": True, "unavailableAttributes": ",".join(sorted(result.unavailable))}
    return {
        "key": result.key,
        "value": result.value,
        "reason": STALE if result.stale else OFREP_REASONS[result.reason],
        "variant": result.variant,
        "metadata": metadata,
    }


def _failure(key: str, code: str, details: str) -> dict[str, Any]:
    return {"key": key, "errorCode": code, "errorDetails": details}


def _refusal(request: Request) -> Response | None:
    scope: RequestScope = request.scope["state"][SCOPE_KEY]
    if scope.principal is None:
        return error_response(
            401,
            "UNAUTHENTICATED",
            "Sign in: OFREP needs a bearer token.",
            {"WWW-Authenticate": "Bearer"},
        )
    return None


def _snapshot(request: Request) -> Snapshot:
    """The flag configuration of the request tenant's province (the registry's for none)."""
    state: GatewayState = request.app.state.pilotgraph
    scope: RequestScope = request.scope["state"][SCOPE_KEY]
    return state.flags.snapshot_for(scope.tenant.province_id if scope.tenant else None)


async def evaluate_flag(request: Request) -> Response:
    """One flag for the signed-in member."""
    key = request.path_params["key"]
    if (refused := _refusal(request)) is not None:
        return refused
    snapshot = _snapshot(request)
    try:
        context = await _context(request, snapshot)
    except OfrepError as exc:
        return JSONResponse(_failure(key, exc.code, exc.details), status_code=exc.status)
    result = evaluate(snapshot, key, context)
    if result.error_code is ErrorCode.FLAG_NOT_FOUND:
        return JSONResponse(_failure(key, "FLAG_NOT_FOUND", f"There is no flag {key!r}."), 404)
    if result.error_code is ErrorCode.TARGETING_KEY_MISSING:
        return JSONResponse(
            _failure(key, "TARGETING_KEY_MISSING", "A partial rollout needs a member."), 400
        )
    return JSONResponse(_success(result))


def _etag(snapshot: Snapshot, context: EvaluationContext) -> str:
    who = f"{context.tenant}|{context.member}|{context.branch}|{','.join(sorted(context.roles))}"
    if context.unavailable:  # the fallback answers differently from any readable branch
        who += f"|unavailable:{','.join(sorted(context.unavailable))}"
    return '"' + hashlib.sha256(f"{snapshot.etag}|{who}".encode()).hexdigest()[:32] + '"'


def not_modified(if_none_match: list[str], etag: str) -> bool:
    """Whether ``If-None-Match`` (all its header lines) matches ``etag`` (RFC 9110, 13.1.2).

    ``*`` matches any current answer; otherwise any listed tag whose opaque part equals the
    current one matches, weak (``W/"x"``) or not: If-None-Match uses the weak comparison.
    """
    field = ",".join(if_none_match).strip()
    if field == "*":
        return True
    return etag.removeprefix("W/") in ENTITY_TAG.findall(field)


async def evaluate_flags(request: Request) -> Response:
    """Every flag for the signed-in member; 304 when ``If-None-Match`` has the current ETag."""
    if (refused := _refusal(request)) is not None:
        return refused
    snapshot = _snapshot(request)
    try:
        context = await _context(request, snapshot)
    except OfrepError as exc:
        return JSONResponse({"errorCode": exc.code, "errorDetails": exc.details}, exc.status)
    etag = _etag(snapshot, context)
    if not_modified(request.headers.getlist("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    flags = []
    for key in sorted(snapshot.flags):
        result = evaluate(snapshot, key, context)
        flags.append(
            _success(result)
            if result.error_code is None
            else _failure(key, result.error_code.value, "A partial rollout needs a member.")
        )
    return JSONResponse({"flags": flags}, headers={"ETag": etag})
