"""The GraphQL endpoint: strawberry's ASGI view with PilotGraph's per-request context."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.responses import error_response
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from schema.context import Context
from tenants.db import scope_session

SESSION_KEY = "pilotgraph_session"
HTTP_CODES = {
    "Unable to parse request body as JSON": "MALFORMED_JSON",
    "Unsupported content type": "UNSUPPORTED_CONTENT_TYPE",
    "No GraphQL query found in the request": "MISSING_QUERY",
}
STATUS_CODES = {405: "METHOD_NOT_ALLOWED", 404: "NOT_FOUND"}


class GraphQLView(GraphQL[Context, None]):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """As strawberry's, but request-level refusals answer JSON with a code, not plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            code = HTTP_CODES.get(exc.reason) or STATUS_CODES.get(exc.status_code, "BAD_REQUEST")
            response = error_response(exc.status_code, code, exc.reason)
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        state: GatewayState = request.app.state.pilotgraph
        scope: RequestScope = request.scope["state"][SCOPE_KEY]
        session = scope_session(state.sessionmaker(), scope.tenant.id if scope.tenant else None)
        request.scope["state"][SESSION_KEY] = session
        return Context(
            request=request if isinstance(request, Request) else None,
            response=response if isinstance(response, Response) else None,
            session=session,
            principal=scope.principal,
            tenant=scope.tenant,
            registry=state.registry,
            now=state.clock(),
        )


class SessionCloser:
    """Close the request's session once the response is sent (rolls back anything uncommitted)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            session = scope.get("state", {}).get(SESSION_KEY)
            if session is not None:
                await session.close()


__all__ = ["GraphQLView", "SessionCloser"]
