"""Pure ASGI middleware at the edge: security headers, CORS, body size, rate limits.

Order in the app: access log → :class:`SecurityHeaders` → ``NoStore`` (:mod:`gateway.edge.caching`)
→ the planned lane (:mod:`gateway.lane`) → CORS → :class:`BodyLimit` → tenancy (verifies the
token) → :class:`RateLimits` (needs the verified principal) → GraphQL.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge.caching import NoStore
from gateway.edge.ratelimit import RateGate, close_limiters, refusal, shared_limiter
from gateway.responses import error_response
from gateway.state import SCOPE_KEY, GatewayState, RequestScope

# Probes: neither tenancy nor rate limits apply to them. Metrics have a private port of their own.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
GRAPHQL_PATH = "/graphql"
# GraphQL takes its tokens per operation, on every transport, in gateway.edge.documents.
UNTHROTTLED = OPEN_PATHS | {GRAPHQL_PATH}
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Tenant",
    "X-Request-Id",
    "GraphQL-Require-Preflight",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "If-None-Match",  # OFREP bulk evaluation from browser providers: 304 while unchanged
]
# Response headers browser code may read: OFREP's ETag, which the provider sends back.
CORS_EXPOSED = ["ETag"]
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
# API answers load nothing; HTML pages (landing, GraphiQL, console) set a CSP of their own.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def edge_middleware(state: GatewayState, lane: Middleware | None = None) -> list[Middleware]:
    """The edge's outer middleware, before tenancy: headers, caching, CORS, body size; ``lane``
    (the planned lane, :mod:`gateway.lane`) after caching, so its answers get the headers."""
    edge = state.settings.edge
    return [
        Middleware(SecurityHeaders, state=state),
        Middleware(NoStore),
        *([lane] if lane is not None else []),
        Middleware(
            CORSMiddleware,
            allow_origins=list(edge.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            max_age=edge.cors_max_age_s,
        ),
        Middleware(BodyLimit, state=state),
    ]


class SecurityHeaders:
    """Standard security headers on every HTTP answer (HSTS in production)."""

    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.enabled = state.settings.edge.security_headers
        self.hsts = state.settings.is_production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", API_CSP)
                if self.hsts:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """413 for any request body over its limit: by Content-Length, or while streaming.

    ``edge.max_body_bytes`` for every path, or the path's own entry in ``edge.path_body_bytes``
    (event ingest). The body is never read whole first: the count stops at the limit.
    """

    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.edge = state.settings.edge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.edge.body_limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(limit, scope, receive, send)
            return
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except _TooLarge:
            if not started:
                await _refuse(limit, scope, receive, send)


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(413, "PAYLOAD_TOO_LARGE", f"A request carries at most {limit} bytes.")
    await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class RateLimits:
    """429 with Retry-After when the caller's or its tenant's bucket is empty (HTTP endpoints).

    GraphQL is throttled per operation by :mod:`gateway.edge.documents` instead, on every
    transport, with the same :class:`RateGate`.
    """

    def __init__(self, app: ASGIApp, gate: RateGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTHROTTLED:
            await self.app(scope, receive, send)
            return
        request: RequestScope | None = scope.get("state", {}).get(SCOPE_KEY)
        client = scope.get("client")
        verdict = await self.gate.take(
            request.principal if request else None,
            request.tenant if request else None,
            client[0] if client else "unknown",
        )
        if not verdict.allowed:
            refused = refusal(verdict)
            answer = error_response(refused.status, refused.code, refused.message, refused.headers)
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


__all__ = ["RateLimits", "close_limiters", "edge_middleware", "shared_limiter"]
