"""``POST /v1/install-tokens``: an install token for a device on the request's tenant.

Anonymous devices may ask (that is the point: the app has no member yet when it is installed),
so issuing is rate-limited per client address and per tenant (``PILOTGRAPH_INSTALL_TOKEN_RATE``,
``PILOTGRAPH_INSTALL_TOKEN_TENANT_RATE``) whenever the edge's rate limits are on. Those limits
bound how many installs anyone can make up: see docs/ADOPTION.md. Every refusal is a coded
JSON body.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from adoption import install_tokens
from adoption.events import MAX_DEVICE
from gateway.edge.http_spec import EdgeRefusal, check_json_depth
from gateway.edge.middleware import shared_limiter
from gateway.edge.ratelimit import Limiter, Verdict
from gateway.responses import domain_error_response, error_response
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from tenants.errors import TenantRequired


class InstallTokenEndpoint:
    """The ASGI endpoint; one limiter for the app's lifetime (or the replicas' Redis)."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        redis_url = state.settings.redis_url
        self.limiter: Limiter = shared_limiter(redis_url.get_secret_value() if redis_url else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive))
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response:
        """The token as JSON, or a coded refusal."""
        if request.method != "POST":
            return error_response(
                405, "METHOD_NOT_ALLOWED", "Ask for an install token with POST.", {"Allow": "POST"}
            )
        scope: RequestScope = request.scope["state"][SCOPE_KEY]
        if scope.tenant is None:
            return domain_error_response(400, TenantRequired())
        refusal = await self._throttle(request, scope.tenant.id)
        if refusal is not None:
            return refusal
        device_id = await _device_id(request)
        if isinstance(device_id, Response):
            return device_id
        return self._issue(scope.tenant.id, device_id)

    async def _throttle(self, request: Request, tenant_id: str) -> Response | None:
        settings = self.state.settings
        if not settings.rate_limits_on:
            return None
        client = request.client.host if request.client else "unknown"
        verdict = await self.limiter.take(f"install:ip:{client}", settings.install_token_rate)
        if verdict.allowed:
            verdict = await self.limiter.take(
                f"install:tenant:{tenant_id}", settings.install_token_tenant_rate
            )
        return None if verdict.allowed else _rate_limited(verdict)

    def _issue(self, tenant_id: str, device_id: str) -> Response:
        key, now = self.state.install_key, self.state.clock()
        token = install_tokens.issue(key=key, tenant_id=tenant_id, device_id=device_id, now=now)
        body = {
            "installToken": token,
            "tenant": tenant_id,
            "deviceId": device_id,
            "expiresAt": install_tokens.expires_at(key=key, now=now).isoformat(),
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _rate_limited(verdict: Verdict) -> Response:
    return error_response(
        429,
        "RATE_LIMITED",
        f"Too many install tokens asked for; retry in {verdict.retry_after_header} s.",
        {"Retry-After": verdict.retry_after_header},
    )


async def _device_id(request: Request) -> str | Response:
    """The body's ``deviceId``, or the coded refusal of a body without a usable one."""
    # The edge's BodyLimit refuses bodies over 1 KiB (edge.path_body_bytes) while they stream.
    body = await request.body()
    try:
        check_json_depth(body)
    except EdgeRefusal as exc:
        return error_response(exc.status, exc.code, exc.message)
    try:
        parsed: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return error_response(400, "MALFORMED_REQUEST", 'Send JSON: {"deviceId": "..."}.')
    device = parsed.get("deviceId") if isinstance(parsed, dict) else None
    if not (isinstance(device, str) and 0 < len(device) <= MAX_DEVICE and device.isprintable()):
        return error_response(
            400,
            "INVALID_DEVICE_ID",
            f"'deviceId' must be a string of 1 to {MAX_DEVICE} printable characters.",
        )
    return device
