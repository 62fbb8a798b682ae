"""The GraphQL endpoint: strawberry's ASGI view with PilotGraph's per-request context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from schema.context import Context
from tenants.db import scope_session

SESSION_KEY = "pilotgraph_session"


class GraphQLView(GraphQL[Context, None]):
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
