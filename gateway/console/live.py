"""Server-sent events for the console: a rollout changed (by anyone, on any replica).

Rollout writes broadcast on :data:`rollout.snapshot.CHANNEL` (PostgreSQL ``NOTIFY``, or
in-process on SQLite). One :class:`Listener` per process feeds every open console stream; it
runs only while at least one console is connected.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine

from db.broadcast import Listener
from rollout.snapshot import CHANNEL

HEARTBEAT_S = 15.0


class RolloutEvents:
    """Fans the process's rollout broadcasts out to each connected console."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._queues: set[asyncio.Queue[str]] = set()
        self._listener: Listener | None = None
        self._lock = asyncio.Lock()

    async def _publish(self, flag: str) -> None:
        for queue in list(self._queues):
            queue.put_nowait(flag)

    async def _join(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        async with self._lock:
            self._queues.add(queue)
            if self._listener is None:
                self._listener = Listener(self._engine, CHANNEL, self._publish)
                await self._listener.start()
        return queue

    async def _leave(self, queue: asyncio.Queue[str]) -> None:
        async with self._lock:
            self._queues.discard(queue)
            if not self._queues and self._listener is not None:
                await self._listener.stop()
                self._listener = None

    async def stream(self) -> AsyncIterator[str]:
        """``text/event-stream`` lines: ``ready`` once, ``rollout`` per change, heartbeats."""
        queue = await self._join()
        try:
            yield "event: ready\ndata: {}\n\n"
            while True:
                try:
                    flag = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                yield f"event: rollout\ndata: {json.dumps({'flag': flag})}\n\n"
        finally:
            with anyio.CancelScope(shield=True):  # a client gone cancels us; finish leaving
                await self._leave(queue)
