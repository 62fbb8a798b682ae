"""Liveness and readiness.

``/healthz`` says the process runs, ``/readyz`` that the database answers. Readiness asks the
database on a connection of its own (short timeouts), never through the request pool: a pool
saturated by a load peak is not an outage, and Kubernetes must not pull every replica exactly
when load peaks. Backpressure (``gateway.edge.backpressure``) exempts both.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from db.connections import ConnectOptions, connect_direct
from db.dialect import is_postgres
from gateway.edge.documents import RETRY_AFTER_S
from gateway.observability import metrics
from gateway.state import GatewayState

READY_TIMEOUT_S = 2.0
READY_CACHE_S = 1.0


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _unready(reason: str) -> JSONResponse:
    """503 for Kubernetes (``status``) and for people and scripts (a coded ``errors`` entry)."""
    message = "The database does not answer; this replica takes no traffic until it does."
    body = {
        "status": "unready",
        "reason": reason,
        "errors": [{"message": message, "extensions": {"code": "SERVICE_UNAVAILABLE"}}],
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": RETRY_AFTER_S})


class Readiness:
    """``GET /readyz``: 200 when the database answers ``SELECT 1`` within ``READY_TIMEOUT_S``.

    On PostgreSQL each probe opens a connection of its own and closes it (so nothing is held
    between probes, and the probe also proves new connections are accepted); probes take turns,
    so a worker never holds more than one, and a success is reused for ``READY_CACHE_S``: a flood
    of ``/readyz`` cannot load the database. On SQLite the engine is asked (no pool to exhaust).
    """

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self._lock = asyncio.Lock()
        self._ready_at = -READY_CACHE_S

    async def endpoint(self, _request: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S), self._lock:
                if time.monotonic() - self._ready_at >= READY_CACHE_S:
                    await self._probe()
                    self._ready_at = time.monotonic()
        except Exception as exc:  # a timeout, a refused connection, a failed query
            metrics.READY.set(0)
            return _unready(type(exc).__name__)
        metrics.READY.set(1)
        return JSONResponse({"status": "ready", "tenants": len(self.state.registry.all())})

    async def _probe(self) -> None:
        settings = self.state.settings
        if not is_postgres(settings.db_url):
            async with self.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return
        options = ConnectOptions(
            connect_timeout_s=READY_TIMEOUT_S,
            command_timeout_s=READY_TIMEOUT_S,
            statement_timeout_ms=int(READY_TIMEOUT_S * 1000),
        )
        conn = await connect_direct(settings.db_url, options, purpose="readiness")
        try:
            await conn.fetchval("SELECT 1")
        finally:
            conn.terminate()  # nothing to finish politely: a probe's connection ends here
