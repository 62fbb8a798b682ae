"""Change broadcasts between replicas: PostgreSQL ``LISTEN/NOTIFY``, or in-process on SQLite.

A writer calls :func:`notify` after committing its change; every process runs a :class:`Listener`
that calls back on each message (its own process included), and resubscribes if its connection
drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

logger = logging.getLogger("pilotgraph.broadcast")
Callback = Callable[[str], Coroutine[Any, Any, None]]
_local: dict[str, list[Callback]] = {}


async def notify(session: AsyncSession, channel: str, payload: str) -> None:
    """Announce a committed change on ``channel`` to every listening process."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )
        await session.commit()
        return
    for callback in list(_local.get(channel, [])):
        await callback(payload)


class Listener:
    """Calls ``callback`` for every message on ``channel`` until stopped."""

    def __init__(self, engine: AsyncEngine, channel: str, callback: Callback) -> None:
        self.engine, self.channel, self.callback = engine, channel, callback
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self.engine.dialect.name == "postgresql":
            self._task = asyncio.create_task(self._listen_forever())
        else:
            _local.setdefault(self.channel, []).append(self.callback)

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            _local.get(self.channel, []).remove(self.callback)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the connection dropped: resubscribe after a pause
                logger.warning("listener on %s lost its connection", self.channel, exc_info=True)
                await asyncio.sleep(1.0)

    async def _listen_once(self) -> None:
        async with self.engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            loop = asyncio.get_running_loop()
            lost: asyncio.Future[None] = loop.create_future()

            def on_message(_c: Any, _pid: int, _channel: str, payload: str) -> None:
                task = loop.create_task(self.callback(payload))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

            def on_lost(_c: Any) -> None:
                if not lost.done():
                    lost.set_result(None)

            raw.add_termination_listener(on_lost)
            await raw.add_listener(self.channel, on_message)
            # A reload after (re)subscribing catches changes made while we were not listening.
            await self.callback("resync")
            try:
                await lost
            finally:
                with contextlib.suppress(Exception):
                    await raw.remove_listener(self.channel, on_message)
