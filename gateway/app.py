"""The ASGI application: routes, middleware and the process's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from http import HTTPStatus

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute

from db.dialect import is_postgres
from db.engine import make_engine
from db.sessions import make_sessionmaker
from db.tenant_connections import close_tenant_connections
from gateway import ofrep
from gateway.adoption_export import export_csv
from gateway.adoption_metrics import AdoptionGauges
from gateway.adoption_retention import EventRetention
from gateway.auth import TokenVerifier
from gateway.console import console_mount
from gateway.edge.backpressure import Backpressure
from gateway.edge.documents import Edge
from gateway.edge.faults import Faults
from gateway.edge.limits import configure_caches
from gateway.edge.middleware import RateLimits, close_limiters, edge_middleware
from gateway.edge.ratelimit import RateGate
from gateway.events import post_events
from gateway.gc_tuning import freeze_after_start
from gateway.health import Readiness, healthz
from gateway.install_tokens import InstallTokenEndpoint
from gateway.lane import PlannedLane
from gateway.observability import metrics
from gateway.observability.access import AccessMiddleware
from gateway.observability.spans import ServerSpans
from gateway.pages import page_routes
from gateway.responses import error_response
from gateway.settings import Settings, get_settings
from gateway.state import GatewayState, kpi_source, webhook_policy
from gateway.tenancy import TenancyMiddleware
from gateway.view import GraphQLView, SessionCloser
from rollout.runtime import RolloutRuntime
from schema.root import build_schema, schema
from tenants.registry import TenantRegistry

logger = logging.getLogger("pilotgraph.gateway")
# The lifespan's stop of every background part, all together, gets this long: a dead database
# must not hold a worker past its grace period (uvicorn's ``timeout_graceful_shutdown``, spent
# on the requests in flight, comes first).
STOP_TIMEOUT_S = 5.0


def build_state(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> GatewayState:
    """The process's engine, sessions, registry and verifier."""
    engine = make_engine(
        settings.db_url,
        pool_size=settings.database_pool_size,
        connect_timeout_s=settings.database_connect_timeout_s,
        statement_timeout_ms=settings.database_statement_timeout_ms,
        command_timeout_s=settings.database_command_timeout_s,
    )
    registry = TenantRegistry()
    reload_engine = None
    if sessionmaker is None and is_postgres(settings.db_url):
        reload_engine = make_engine(
            settings.db_url,
            connect_timeout_s=settings.database_connect_timeout_s,
            statement_timeout_ms=settings.database_statement_timeout_ms,
            application_name="pilotgraph-reload",
            pooled=False,
        )
    return GatewayState(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker or make_sessionmaker(engine),
        registry=registry,
        verifier=TokenVerifier(settings, registry),
        kpis=kpi_source(),
        reload_engine=reload_engine,
    )


async def _stop_all(steps: list[tuple[str, Callable[[], Awaitable[None]]]]) -> None:
    """Run the shutdown steps in order within ``STOP_TIMEOUT_S`` in all; a step that fails or
    runs out of time is logged and the next one still gets the rest of the time (at least a
    moment: closing an engine is quick when nothing is stuck)."""
    deadline = asyncio.get_running_loop().time() + STOP_TIMEOUT_S
    for name, stop in steps:
        try:
            async with asyncio.timeout(max(0.2, deadline - asyncio.get_running_loop().time())):
                await stop()
        except Exception:  # a timeout or a dead connection: the process exits all the same
            logger.warning("shutdown step %s did not finish cleanly", name, exc_info=True)


async def _not_found(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(404, "NOT_FOUND", "Not found.")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own refusals (a method a route does not take, …) answer coded JSON too."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = headers.get("Allow", "")
        message = f"{request.method} is not allowed here; use {allowed}."
        return error_response(405, "METHOD_NOT_ALLOWED", message, headers)
    try:
        status = HTTPStatus(exc.status_code)
    except ValueError:
        return error_response(exc.status_code, "BAD_REQUEST", str(exc.detail), headers)
    code = status.phrase.upper().replace(" ", "_").replace("-", "_")
    return error_response(exc.status_code, code, status.phrase + ".", headers)


def create_app(settings: Settings | None = None, state: GatewayState | None = None) -> Starlette:
    """Build the gateway; ``state`` lets tests share an engine or a transactional session."""
    settings = settings or get_settings()
    state = state or build_state(settings)
    configure_caches(settings.edge)
    served = build_schema(tracing=True) if settings.otlp_endpoint else schema
    rates = RateGate(settings)  # one set of buckets for the app: GraphQL and other endpoints
    edge = Edge(served, settings, rates)
    view = GraphQLView(served, edge, graphql_ide="graphiql" if settings.graphiql else None)
    readiness = Readiness(state)

    app = Starlette(
        routes=_routes(state, view, readiness),
        middleware=_middleware(settings, state, rates, edge),
        exception_handlers={404: _not_found, HTTPException: _http_error},
        lifespan=_lifespan(state, settings),
    )
    app.state.pilotgraph = state
    return app


def _lifespan(
    state: GatewayState, settings: Settings
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """Start the listeners, the rollout runtime and the gauges; stop each, whatever fails."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await state.registry.reload(state.sessionmaker)
        reloads = state.reloads()
        tenants_changed = state.registry.listener(state.engine, reloads)
        await tenants_changed.start()
        rollout_runtime = _rollout_runtime(state, settings, reloads)
        await rollout_runtime.start()
        pool_gauges = metrics.PoolGauges(state.engine)
        await pool_gauges.start()
        adoption_gauges = AdoptionGauges(state)
        await adoption_gauges.start()
        retention = EventRetention(
            state,
            months=settings.event_retention_months,
            interval_s=settings.event_retention_interval_s,
        )
        await retention.start()
        try:
            yield
        finally:
            steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("pool gauges", pool_gauges.stop),
                ("adoption gauges", adoption_gauges.stop),
                ("event retention", retention.stop),
                ("rate limiters", close_limiters),
                ("rollout runtime", rollout_runtime.stop),
                ("tenant listener", tenants_changed.stop),
                *_connection_steps(state),
            ]
            await _stop_all(steps)

    return lifespan


def _connection_steps(state: GatewayState) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """Closing the database connections, last: the planned ones, the engine's, the reloads'."""
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("planned connections", partial(close_tenant_connections, state.engine)),
        ("engine", state.engine.dispose),
    ]
    if state.reload_engine is not None:
        steps.append(("reload engine", state.reload_engine.dispose))
    return steps


def _rollout_runtime(
    state: GatewayState, settings: Settings, reloads: async_sessionmaker[AsyncSession]
) -> RolloutRuntime:
    return RolloutRuntime(
        state.engine,
        state.sessionmaker,
        state.flags,
        reloads=reloads,
        kpis=state.kpis,
        clock=state.clock,
        guardrail_s=settings.guardrail_interval_s,
        guardrail_policy=state.guardrail,
        on_guardrail_pause=lambda c: metrics.GUARDRAIL_PAUSES.labels(flag=c.flag_key).inc(),
        webhook_s=settings.webhook_poll_s,
        webhook_policy=webhook_policy(settings),
    )


def _routes(state: GatewayState, view: GraphQLView, readiness: Readiness) -> list[BaseRoute]:
    return [
        Route("/healthz", healthz),
        Route("/readyz", readiness.endpoint),
        Route("/graphql", view, methods=["GET", "POST"]),
        Route("/ofrep/v1/evaluate/flags", ofrep.evaluate_flags, methods=["POST"]),
        Route("/ofrep/v1/evaluate/flags/{key:path}", ofrep.evaluate_flag, methods=["POST"]),
        Route("/v1/events", post_events, methods=["POST"]),
        # Any method reaches it, so a wrong one gets a coded 405 rather than plain text.
        Route("/v1/install-tokens", InstallTokenEndpoint(state)),
        Route("/v1/adoption.csv", export_csv, methods=["GET"]),
        WebSocketRoute("/graphql", view),
        console_mount(),
        *page_routes(graphiql=view.graphql_ide is not None),
    ]


def _middleware(
    settings: Settings, state: GatewayState, rates: RateGate, edge: Edge
) -> list[Middleware]:
    """Outermost first."""
    return [
        Middleware(ServerSpans),  # outermost: the access line and every later span are in it
        Middleware(AccessMiddleware),
        Middleware(Faults),  # inside the access log, which sees the status it sends
        Middleware(Backpressure, limit=settings.in_flight_limit),
        *edge_middleware(state, lane=Middleware(PlannedLane, state=state, edge=edge)),
        Middleware(TenancyMiddleware, state=state),
        Middleware(RateLimits, gate=rates),
        Middleware(SessionCloser),
    ]


def serve_app() -> Starlette:
    """The app as ``pilotgraph serve`` runs it: logs and traces configured from the settings."""
    from gateway.observability.logs import configure_logging

    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    state = build_state(settings)
    if settings.otlp_endpoint:
        from gateway.observability.tracing import configure_tracing, instrument_engine

        provider = configure_tracing(
            service_name=settings.service_name, endpoint=settings.otlp_endpoint
        )
        instrument_engine(state.engine, provider)
    return freeze_after_start(create_app(settings, state))
