"""Retention of raw events on a schedule: every ``PILOTGRAPH_EVENT_RETENTION_INTERVAL_S`` each
replica asks for a run, and one at a time does it (``adoption.expiry``: a transaction-level
advisory lock on PostgreSQL; the others skip). The first run comes one interval after start, so
a restart loop never hammers the database; ``pilotgraph adoption retention`` runs it now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from adoption import expiry
from gateway.state import GatewayState

logger = logging.getLogger("pilotgraph.adoption")


async def run_once(state: GatewayState, months: int) -> expiry.Expiry:
    """One retention run over every tenant the gateway knows."""
    tenant_ids = [t.id for t in state.registry.all()]
    outcome = await expiry.expire(
        sessions=state.sessionmaker, tenant_ids=tenant_ids, now=state.clock(), months=months
    )
    if outcome.total or outcome.partitions:
        logger.info(
            "removed %d events before %s (%d partitions); rollups kept",
            outcome.total,
            outcome.cutoff.isoformat(),
            len(outcome.partitions),
        )
    return outcome


class EventRetention:
    """Runs :func:`run_once` in the background for the app's lifetime (off when interval is 0)."""

    def __init__(self, state: GatewayState, *, months: int, interval_s: float) -> None:
        self.state, self.months, self.interval_s = state, months, interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.interval_s > 0:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await run_once(self.state, self.months)
            except Exception:  # the next round retries; nothing is half-removed (see expiry)
                logger.exception("event retention failed")
