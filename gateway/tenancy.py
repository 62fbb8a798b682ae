"""Pure ASGI middleware: verify the bearer token and decide which tenant the request acts on.

The tenant comes from something verified: the token's ``tenant`` claim, or a host/path the
deployment maps. A host, path or ``X-Tenant`` header naming another tenant is honoured only
for roles that reach the whole province.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import AuthError
from gateway.console import is_console_path
from gateway.edge.http_spec import EdgeRefusal
from gateway.edge.middleware import OPEN_PATHS
from gateway.responses import send_error
from gateway.service_keys import is_service_key
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from tenants.errors import TenantNotFound
from tenants.identity import Principal
from tenants.registry import TenantInfo

TENANT_PATH = re.compile(r"^/t/(?P<tenant>[^/]+)(?P<rest>/.*)$")


class TenancyMiddleware:
    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"] in OPEN_PATHS
            or is_console_path(scope["path"])  # the console checks its token itself
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        requested = self._requested_tenant(scope, headers)
        try:
            principal = await self._principal(headers, scope["path"])
            tenant = self._resolve(principal, requested)
        except AuthError as exc:
            await send_error(scope, receive, send, 401, exc.code, exc.message)
            return
        except TenantNotFound as exc:
            await send_error(scope, receive, send, 404, exc.code, exc.message)
            return
        except EdgeRefusal as exc:
            await send_error(scope, receive, send, exc.status, exc.code, exc.message)
            return
        scope.setdefault("state", {})[SCOPE_KEY] = RequestScope(principal=principal, tenant=tenant)
        await self.app(scope, receive, send)

    def _requested_tenant(self, scope: Scope, headers: Headers) -> str | None:
        """A tenant named by path prefix (rewritten away), host, or ``X-Tenant`` header."""
        match = TENANT_PATH.match(scope["path"])
        if match and self.state.settings.path_tenants:
            scope["path"] = match["rest"]
            scope["raw_path"] = match["rest"].encode()
            return match["tenant"]
        base = self.state.settings.base_domain
        host = headers.get("host", "").split(":", 1)[0].lower()
        if base and host.endswith("." + base.lower()):
            return host[: -len(base) - 1]
        return headers.get("x-tenant") or None

    async def _principal(self, headers: Headers, path: str) -> Principal | None:
        authorization = headers.get("authorization")
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("The Authorization header must be 'Bearer <token>'.")
        token = token.strip()
        if is_service_key(token):
            state = self.state
            return await state.service_keys.verify(
                state.sessionmaker, token, path=path, now=state.clock()
            )
        return await self.state.verifier.verify(token)

    def _resolve(self, principal: Principal | None, requested: str | None) -> TenantInfo | None:
        """The tenant acted on; an unknown slug raises :class:`TenantNotFound`."""
        registry = self.state.registry
        if requested is None:
            home = principal.tenant if principal else None
            return registry.get_or_raise(home) if home else None
        tenant = registry.get_or_raise(requested)
        if principal is None or principal.covers(tenant):
            return tenant
        raise EdgeRefusal(
            403, "FORBIDDEN_TENANT", f"Your role does not cover tenant '{tenant.id}'."
        )
