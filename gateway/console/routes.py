"""Routes under ``/admin``: the page, its built assets, and the sign-in check."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from db.sessions import scope_session
from gateway.auth import AuthError
from gateway.console.access import ConsoleAccess, console_access
from gateway.console.live import RolloutEvents
from gateway.console.oidc import config, redeem, refresh
from gateway.responses import error_response
from gateway.state import GatewayState
from tenants.handbook.read_model import full_name
from tenants.identity import Principal
from tenants.read_model import province_timezone

PREFIX = "/admin"
# `npm run build --prefix console` writes the page, its modules and the chart library here:
# package data, so a wheel (and the image) carries the built console.
DIST = Path(__file__).resolve().parent / "static"
# The page loads only what the gateway serves: no CDN, no inline script.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
NOT_BUILT = (
    "The admin console is not built: run `npm ci --prefix console && npm run build --prefix "
    "console` (make run does it)."
)


def is_console_path(path: str) -> bool:
    """The console's page and assets are public: its data calls go to /graphql with a token."""
    return path == PREFIX or path.startswith(PREFIX + "/")


async def page(_request: Request) -> Response:
    index = DIST / "index.html"
    if not index.is_file():
        return error_response(503, "CONSOLE_NOT_BUILT", NOT_BUILT)
    return FileResponse(
        index,
        headers={"content-security-policy": PAGE_CSP, "cache-control": "no-cache"},
    )


async def _verified(request: Request) -> ConsoleAccess | Response:
    """The caller's console access, or the 401/403 answer that refuses them."""
    state: GatewayState = request.app.state.pilotgraph
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "UNAUTHENTICATED", "Sign in with a token.")
    try:
        principal: Principal = await state.verifier.verify(token.strip())
    except AuthError as exc:
        return error_response(401, exc.code, exc.message)
    access = console_access(principal)
    if access is None:
        return error_response(
            403,
            "CONSOLE_FORBIDDEN",
            "The console is for province admins, tenant admins and auditors.",
        )
    return access


async def session(request: Request) -> Response:
    """Verify the pasted token and say what the console may show, whom it shows signed in (the
    token's name, else their own entry in their tenant's member directory) and in which time
    zone; refuse other roles."""
    access = await _verified(request)
    if isinstance(access, Response):
        return access
    if access.name is None and access.tenant is not None:
        access = replace(access, name=await _own_name(request, access.tenant, access.subject))
    access = replace(access, time_zone=await _time_zone(request, access))
    return JSONResponse(access.as_json(), headers={"cache-control": "no-store"})


async def _time_zone(request: Request, access: ConsoleAccess) -> str:
    """The zone of the admin's province: their tenant's, else their province's."""
    state: GatewayState = request.app.state.pilotgraph
    tenant = state.registry.get(access.tenant) if access.tenant is not None else None
    if tenant is not None:
        return tenant.timezone
    async with state.sessionmaker() as db:
        return await province_timezone(session=db, province_id=access.province or "")


async def _own_name(request: Request, tenant_id: str, subject: str) -> str | None:
    try:
        member_id = uuid.UUID(subject)
    except ValueError:
        return None
    state: GatewayState = request.app.state.pilotgraph
    async with scope_session(state.sessionmaker(), tenant_id) as db:
        return await full_name(session=db, tenant_id=tenant_id, member_id=member_id)


async def events(request: Request) -> Response:
    """Server-sent events: one ``rollout`` event whenever any flag's rollout changes."""
    access = await _verified(request)
    if isinstance(access, Response):
        return access
    state: GatewayState = request.app.state.pilotgraph
    hub: RolloutEvents | None = getattr(request.app.state, "console_events", None)
    if hub is None:
        hub = request.app.state.console_events = RolloutEvents(state.engine)
    return StreamingResponse(
        hub.stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


class Assets(StaticFiles):
    """The built assets; before a build, the page's coded 503 rather than a RuntimeError."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.check_config()  # raises RuntimeError while the folder does not exist
        except RuntimeError:
            await error_response(503, "CONSOLE_NOT_BUILT", NOT_BUILT)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def console_mount() -> Mount:
    """``/admin/`` the page, ``/admin/api/session`` and ``/events``, ``/admin/assets/*``."""
    return Mount(
        PREFIX,
        routes=[
            Route("/", page),
            Route("/api/session", session, methods=["GET"]),
            Route("/api/events", events, methods=["GET"]),
            Route("/api/config", config, methods=["GET"]),
            Route("/api/oidc/token", redeem, methods=["POST"]),
            Route("/api/oidc/refresh", refresh, methods=["POST"]),
            Mount("/assets", Assets(directory=DIST / "assets", check_dir=False)),
        ],
    )
