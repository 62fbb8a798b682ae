"""``POST /v1/events``: the handbook app's events, as a JSON array or NDJSON.

The tenant is the request's (token, or for anonymous events the host/path the deployment maps);
the member is the verified token's subject; anonymous events must carry an install token the
gateway issued for their device on this tenant (``POST /v1/install-tokens``), and a token sent
with any event is checked. At most 1,000 events or 1 MiB per request; the answer says, per
index, which events were accepted.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adoption import service
from adoption.errors import AdoptionError, MalformedBatch
from db.sessions import scope_session
from gateway.edge.http_spec import EdgeRefusal, check_json_depth
from gateway.observability.metrics import EVENTS_INGESTED, EVENTS_REFUSED
from gateway.responses import domain_error_response, error_response
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from tenants.errors import TenantRequired
from tenants.handbook.read_model import member_of

NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")


async def post_events(request: Request) -> Response:
    """Validate and store a batch; 200 with per-index results, or a coded 4xx."""
    state: GatewayState = request.app.state.pilotgraph
    scope: RequestScope = request.scope["state"][SCOPE_KEY]
    if scope.tenant is None:
        return domain_error_response(400, TenantRequired())
    # The edge's BodyLimit refuses bodies over MAX_BYTES (edge.path_body_bytes) while streaming.
    body = await request.body()
    try:
        events = _parse(body, request.headers.get("content-type", ""))
    except MalformedBatch as exc:
        return error_response(400, exc.code, exc.message)
    except EdgeRefusal as exc:
        return error_response(exc.status, exc.code, exc.message)
    result = await _store(state, scope, events)
    if isinstance(result, Response):
        return result
    _count(scope.tenant.id, result)
    return JSONResponse(
        {
            "accepted": result.accepted,
            "refused": result.refused,
            "stored": result.stored,
            "results": [_outcome(o) for o in result.outcomes],
        }
    )


async def _store(
    state: GatewayState, scope: RequestScope, events: list[Any]
) -> service.IngestResult | Response:
    """Ingest the batch in the tenant's transaction, or the coded refusal to answer."""
    assert scope.tenant is not None
    async with scope_session(state.sessionmaker(), scope.tenant.id) as session:
        member_id = await _member(scope, session)
        if member_id is False:
            return error_response(
                403, "NOT_A_MEMBER", "Events are recorded for members of the tenant."
            )
        try:
            result = await service.ingest(
                session=session,
                tenant_id=scope.tenant.id,
                timezone=scope.tenant.timezone,
                member_id=member_id if isinstance(member_id, uuid.UUID) else None,
                events=events,
                now=state.clock(),
                install_key=state.install_key,
            )
        except AdoptionError as exc:
            return error_response(413, exc.code, exc.message)
        await session.commit()
    return result


def _count(tenant_id: str, result: service.IngestResult) -> None:
    duplicates = result.accepted - result.stored
    for outcome, count in (
        ("stored", result.stored),
        ("duplicate", duplicates),
        ("refused", result.refused),
    ):
        if count:
            EVENTS_INGESTED.labels(tenant=tenant_id, outcome=outcome).inc(count)
    for refused in result.outcomes:
        if not refused.accepted:
            EVENTS_REFUSED.labels(tenant=tenant_id, code=refused.code or "UNKNOWN").inc()


def _outcome(outcome: service.EventOutcome) -> dict[str, Any]:
    if outcome.accepted:
        return {"index": outcome.index, "status": "duplicate" if outcome.duplicate else "accepted"}
    return {
        "index": outcome.index,
        "status": "refused",
        "code": outcome.code,
        "message": outcome.message,
    }


async def _member(scope: RequestScope, session: AsyncSession) -> uuid.UUID | bool | None:
    """The token's member (None: anonymous; False: a token that is no member of the tenant)."""
    if scope.principal is None:
        return None
    assert scope.tenant is not None
    member_id = await member_of(
        session=session, tenant_id=scope.tenant.id, principal=scope.principal
    )
    return member_id if member_id is not None else False


def _parse(body: bytes, content_type: str) -> list[Any]:
    check_json_depth(body)
    try:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip().lower() in NDJSON:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        parsed = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedBatch(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(parsed, list):
        raise MalformedBatch("The body must be a JSON array of events (or NDJSON).")
    return parsed
