"""The ASGI application: routes, middleware and the process's lifetime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from gateway.auth import TokenVerifier
from gateway.health import healthz, readyz
from gateway.settings import Settings, get_settings
from gateway.state import GatewayState
from gateway.tenancy import TenancyMiddleware
from gateway.view import GraphQLView, SessionCloser
from schema.root import schema
from tenants.broadcast import Listener
from tenants.db import make_engine, make_sessionmaker
from tenants.registry import CHANNEL as TENANTS_CHANNEL
from tenants.registry import TenantRegistry


def build_state(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> GatewayState:
    """The process's engine, sessions, registry and verifier."""
    engine = make_engine(
        settings.db_url,
        pool_size=settings.database_pool_size,
        connect_timeout_s=settings.database_connect_timeout_s,
        statement_timeout_ms=settings.database_statement_timeout_ms,
    )
    return GatewayState(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker or make_sessionmaker(engine),
        registry=TenantRegistry(),
        verifier=TokenVerifier(settings),
    )


async def _not_found(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": "Not found.", "extensions": {"code": "NOT_FOUND"}}]},
        status_code=404,
    )


def create_app(settings: Settings | None = None, state: GatewayState | None = None) -> Starlette:
    """Build the gateway; ``state`` lets tests share an engine or a transactional session."""
    settings = settings or get_settings()
    state = state or build_state(settings)
    view = GraphQLView(schema, graphql_ide="graphiql" if settings.graphiql else None)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await state.registry.reload(state.sessionmaker)
        tenants_changed = Listener(
            state.engine, TENANTS_CHANNEL, lambda _slug: state.registry.reload(state.sessionmaker)
        )
        await tenants_changed.start()
        try:
            yield
        finally:
            await tenants_changed.stop()
            await state.engine.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
        ],
        middleware=[
            Middleware(TenancyMiddleware, state=state),
            Middleware(SessionCloser),
        ],
        exception_handlers={404: _not_found},
        lifespan=lifespan,
    )
    app.state.pilotgraph = state
    return app
