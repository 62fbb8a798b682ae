"""Liveness and readiness.

``/healthz`` says the process runs, ``/readyz`` that the database answers. Readiness asks the
database on an engine of its own (one connection, short timeouts), never through the request
pool: a pool saturated by a load peak is not an outage, and Kubernetes must not pull every
replica exactly when load peaks. Backpressure (``gateway.edge.backpressure``) exempts both.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.state import GatewayState
from tenants.db import make_engine

READY_TIMEOUT_S = 2.0


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


class Readiness:
    """``GET /readyz``: 200 when the database answers ``SELECT 1`` within ``READY_TIMEOUT_S``."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self._engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The probe's own engine, made on first use: one connection, no overflow."""
        if self._engine is None:
            settings = self.state.settings
            self._engine = make_engine(
                settings.db_url,
                pool_size=1,
                max_overflow=0,
                connect_timeout_s=min(READY_TIMEOUT_S, settings.database_connect_timeout_s),
                statement_timeout_ms=int(READY_TIMEOUT_S * 1000),
                command_timeout_s=READY_TIMEOUT_S + 1,
            )
        return self._engine

    async def endpoint(self, _request: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # a timeout, a refused connection, a failed query
            body = {"status": "unready", "reason": type(exc).__name__}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "tenants": len(self.state.registry.all())})

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
