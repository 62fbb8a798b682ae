"""Liveness and readiness.

``/healthz`` says the process runs, ``/readyz`` that the database answers.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.state import GatewayState

READY_TIMEOUT_S = 2.0


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    state: GatewayState = request.app.state.pilotgraph
    try:
        async with asyncio.timeout(READY_TIMEOUT_S), state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # a timeout, a refused connection, a failed query
        return JSONResponse({"status": "unready", "reason": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ready", "tenants": len(state.registry.all())})
