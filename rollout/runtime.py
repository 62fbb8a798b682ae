"""What a gateway replica runs for rollout: flag propagation, scheduled steps, the guardrail.

Propagation: a change is broadcast on ``CHANNEL`` (PostgreSQL ``LISTEN/NOTIFY``, in-process on
SQLite) and every replica reloads its snapshot; a periodic resync covers lost notifications.
Scheduled steps: every replica polls, and ``FOR UPDATE SKIP LOCKED`` runs each step once.
Guardrail: every replica checks the running plans; the plan's row lock pauses each one once.
Webhooks: every replica posts the outbox's due attempts; ``SKIP LOCKED`` and a lease make each
attempt once (``rollout/webhooks/delivery.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.broadcast import Listener, notify
from db.clock import Clock, utc_now
from rollout import guardrail, schedule
from rollout.guardrail import Outcome, WaveCheck
from rollout.kpi import KpiSource
from rollout.snapshot import CHANNEL, FlagStore
from rollout.webhooks.delivery import RetryPolicy
from rollout.webhooks.dispatcher import Dispatcher

logger = logging.getLogger("pilotgraph.rollout")


class RolloutRuntime:
    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: FlagStore,
        *,
        kpis: KpiSource,
        reloads: async_sessionmaker[AsyncSession] | None = None,
        resync_s: float = 30.0,
        schedule_s: float = 15.0,
        guardrail_s: float = 900.0,
        guardrail_policy: guardrail.Policy | None = None,
        on_guardrail_pause: Callable[[WaveCheck], None] | None = None,
        clock: Clock = utc_now,
        webhook_s: float = 5.0,
        webhook_policy: RetryPolicy | None = None,
    ) -> None:
        self.sessionmaker, self.store, self.clock = sessionmaker, store, clock
        self.reloads = reloads or sessionmaker  # the listener's reloads (see GatewayState)
        self.kpis = kpis
        self.resync_s, self.schedule_s, self.guardrail_s = resync_s, schedule_s, guardrail_s
        self.guardrail_policy = guardrail_policy or guardrail.Policy()
        self.on_guardrail_pause = on_guardrail_pause
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.webhook_s = webhook_s
        self.webhooks = Dispatcher(
            sessionmaker, worker=self.worker, policy=webhook_policy, clock=clock
        )
        # The listener also reloads after every reconnect and every ``resync_s`` seconds.
        self.listener = Listener(engine, CHANNEL, self._changed, resync_s=resync_s)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.store.reload(self.sessionmaker)
        await self.listener.start()
        self._tasks = [
            asyncio.create_task(self._every(self.schedule_s, self.run_due_steps)),
            asyncio.create_task(self._every(self.guardrail_s, self.run_guardrail)),
            asyncio.create_task(self._every(self.webhook_s, self.webhooks.run_once)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.listener.stop()

    async def _changed(self, _payload: str) -> None:
        # A failure reaches the listener, which retries until the change is applied.
        await self.store.reload(self.reloads, raise_on_failure=True)

    async def run_due_steps(self) -> None:
        """Run the scheduled steps that are due, then tell every replica."""
        ran = await schedule.run_due(
            sessionmaker=self.sessionmaker, kpis=self.kpis, worker=self.worker, now=self.clock()
        )
        if ran:
            async with self.sessionmaker() as session:
                await notify(session, CHANNEL, "scheduled")

    async def run_guardrail(self) -> list[WaveCheck]:
        """Check every running plan once; pause those whose waves' weekly active members fell."""
        async with self.sessionmaker() as session:
            checks = await guardrail.check(
                session=session, kpis=self.kpis, policy=self.guardrail_policy, now=self.clock()
            )
            paused = [c for c in checks if c.outcome is Outcome.PAUSED]
            for check in paused:  # replicas reload, open consoles refresh
                await notify(session, CHANNEL, check.flag_key)
        for check in paused:
            if self.on_guardrail_pause is not None:
                self.on_guardrail_pause(check)
        return checks

    async def _every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # keep the loop alive; the next round retries
                logger.warning("rollout background job failed", exc_info=True)
