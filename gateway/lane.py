"""The planned lane: a trusted document the planner answers skips the generic request stack.

In production only trusted documents run, and most are planned (:mod:`planner`). For those, the
generic stack — CORS, the body limit, tenancy, the router, the strawberry view, a ``Context`` with
an ORM session per request, and their middleware — costs more CPU than the statement. This
middleware sits after the access log, spans, fault answers, backpressure, security headers and
``no-store`` (so its answers get all of them) and before CORS. It answers a request itself only
when every step the generic stack would take is known to succeed the same way:

- ``POST /graphql`` with a ``Content-Length`` within the body limit, ``application/json`` (UTF-8),
  an ``Accept`` the edge serves, no ``Origin`` (browsers go through CORS), no tenant named by
  header, host or router token: the tenant is the verified token's own;
- one operation (no batch) whose document, sent by hash or as text in the configured persisted
  mode, is a planned manifest entry, and which the planner admits (permission, flags, variables)
  exactly as :func:`planner.execute.answer` would;
- the caller's rate-limit token, then the edge's checks on the document (tokens, depth, cost,
  transport, introspection), as :meth:`gateway.edge.documents.Edge.execute` takes them.

Anything else goes on to the generic stack with the body it read, unchanged, and that stack
answers it as it always has; a rate-limit token the lane already took is not taken twice. The
lane's answer is the generic stack's: the same status, body bytes and headers (tested), the same
access-log line and metrics, the same spans.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.dialect import is_postgres
from gateway.auth import ROUTER_HEADER, AuthError
from gateway.edge.documents import HTTP_POST, LANE_THROTTLED, Edge, timed_out
from gateway.edge.http_spec import (
    EdgeRefusal,
    Params,
    check_content_type,
    decode_json,
    negotiate,
    params_from_json,
)
from gateway.edge.middleware import GRAPHQL_PATH
from gateway.responses import error_response
from gateway.service_keys import is_service_key
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from planner.execute import Ready, fetch_pooled, operation_name, operation_span, ready
from planner.plans import Plan
from rollout.snapshot import FlagStore
from schema.observe import OPERATION_KEY
from tenants.identity import Principal
from tenants.registry import TenantInfo, TenantRegistry

# Request headers that send a request the generic way: CORS, a tenant named by header, the
# federation router's credential.
_GENERIC_HEADERS = frozenset({b"origin", b"x-tenant", ROUTER_HEADER.encode("latin-1")})


class Asker:
    """The verified caller as flag decisions see it (:class:`schema.rollout.features.FlagAsker`)."""

    __slots__ = ("flags", "principal", "registry", "tenant")

    def __init__(
        self, principal: Principal, tenant: TenantInfo, registry: TenantRegistry, flags: FlagStore
    ) -> None:
        self.principal: Principal | None = principal
        self.tenant: TenantInfo | None = tenant
        self.registry = registry
        self.flags = flags


class PlannedLane:
    """Answer planned trusted documents directly; pass everything else on, body and all."""

    def __init__(self, app: ASGIApp, state: GatewayState, edge: Edge) -> None:
        self.app = app
        self.state = state
        self.edge = edge
        settings = state.settings
        self.enabled = (
            settings.planned_lane
            and edge.planner is not None
            and bool(edge.planner.plans)
            and is_postgres(settings.db_url)
            and state.serves_pooled
        )
        self.limit = settings.edge.body_limit_for(GRAPHQL_PATH)
        self.base_domain = (settings.base_domain or "").lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            self.enabled
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == GRAPHQL_PATH
        ):
            await self.app(scope, receive, send)
            return
        headers = self._lane_headers(scope)
        if headers is None:
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        if body is None:  # the client left, or sent more than it declared: the stack decides
            await self.app(scope, receive, send)
            return
        if not await self._answer(scope, send, headers, body):
            await self.app(scope, _replay(body, receive), send)

    def _lane_headers(self, scope: Scope) -> dict[bytes, bytes] | None:
        """The request's headers, when nothing in them sends it the generic way."""
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _GENERIC_HEADERS or name in headers:
                return None  # repeated headers: the generic stack decides what they mean
            headers[name] = value
        declared = headers.get(b"content-length", b"")
        if not declared.isdigit() or int(declared) > self.limit:
            return None
        if self.base_domain and self._host_names_tenant(headers.get(b"host", b"")):
            return None
        return headers

    def _host_names_tenant(self, host: bytes) -> bool:
        name = host.decode("latin-1").split(":", 1)[0].lower()
        return name.endswith("." + self.base_domain)

    async def _answer(
        self, scope: Scope, send: Send, headers: dict[bytes, bytes], body: bytes
    ) -> bool:
        """Answer the request, or return False (nothing sent) to leave it to the stack."""
        try:
            check_content_type(_text(headers.get(b"content-type")))
            media_type = negotiate(_text(headers.get(b"accept")))
            params = params_from_json(decode_json(body))
        except EdgeRefusal:
            return False
        planned = self.edge.lane_plan(params)  # before the token: most other bodies stop here
        found = await self._caller(headers) if planned is not None else None
        if planned is None or found is None:
            return False
        principal, tenant = found
        request = self._ready(planned, params, principal, tenant)
        if request is None:
            return False
        state = scope.setdefault("state", {})
        state[SCOPE_KEY] = RequestScope(principal=principal, tenant=tenant)
        client = scope.get("client")
        try:
            await self.edge.take(principal, tenant, client[0] if client else "unknown")
        except EdgeRefusal:
            return False  # the stack refuses it again, with its code and Retry-After
        state[LANE_THROTTLED] = 1
        try:
            self.edge.check_document(request[0], params, HTTP_POST, principal)
        except EdgeRefusal:
            return False
        self.edge.persisted.register(params, request[0])
        state.pop(LANE_THROTTLED, None)
        await self._respond(scope, send, request[1], media_type)
        return True

    async def _caller(self, headers: dict[bytes, bytes]) -> tuple[Principal, TenantInfo] | None:
        """The verified principal and its own tenant, from a bearer token (not a service key)."""
        scheme, _, token = _text(headers.get(b"authorization")).partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or is_service_key(token):
            return None
        try:
            principal = await self.state.verifier.verify(token)
        except AuthError:
            return None
        tenant = self.state.registry.get(principal.tenant) if principal.tenant else None
        return None if tenant is None else (principal, tenant)

    def _ready(
        self, planned: tuple[str, Plan], params: Params, principal: Principal, tenant: TenantInfo
    ) -> tuple[str, Ready] | None:
        query, plan = planned
        asker = Asker(principal, tenant, self.state.registry, self.state.flags)
        request = ready(plan, asker, params.variables, self.state.clock())
        return None if request is None else (query, request)

    async def _respond(self, scope: Scope, send: Send, request: Ready, media_type: str) -> None:
        scope["state"][OPERATION_KEY] = operation_name(request.plan)
        try:
            async with asyncio.timeout(self.state.settings.edge.request_timeout_s):
                with operation_span(request.plan):
                    text = await fetch_pooled(self.state.engine, request)
        except TimeoutError:
            late = timed_out()
            refused = error_response(late.status, late.code, late.message, late.headers)
            await refused(scope, _nothing, send)
            return
        payload = b'{"data":' + text.encode("utf-8") + b"}"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(payload)).encode("latin-1")),
                    (b"content-type", f"{media_type}; charset=utf-8".encode("latin-1")),
                    (b"vary", b"Origin"),  # as CORS says of every answer to a request without one
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


async def _read(receive: Receive) -> bytes | None:
    """The whole body (its length is declared and within the limit), or None."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read already, then whatever the client sends next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def _text(value: bytes | None) -> str:
    return value.decode("latin-1") if value is not None else ""
