"""Change broadcasts between replicas: PostgreSQL ``LISTEN/NOTIFY``, or in-process on SQLite.

A writer calls :func:`notify` after committing its change; every process runs a :class:`Listener`
that calls back on each message (its own process included). On PostgreSQL a listener holds a
connection of its own, outside the request pool: a pooled connection that died with its server
would come back from the pool dead, and a listener must not take the pool's capacity. When that
connection is lost (server restart, network cut: seen by the termination callback, by a failed
ping or by TCP keepalive), it reconnects with capped exponential backoff and jitter, and after
every (re)connect calls back with ``"resync"``: the notifications missed meanwhile are caught up.
A periodic ``"resync"`` (``resync_s``) covers anything else that was lost, and on SQLite carries
other processes' changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.connections import connect_direct
from db.dialect import is_postgres
from db.engine import connect_options

logger = logging.getLogger("pilotgraph.broadcast")
Callback = Callable[[str], Coroutine[Any, Any, None]]
_local: dict[str, list[Callback]] = {}
RESYNC = "resync"
# How often a listener reloads anyway (a notification lost in transit, another SQLite process).
RESYNC_S = 30.0


@dataclass(frozen=True, slots=True)
class Reconnect:
    """When a listener retries: ``first_s`` after a loss, doubling up to ``cap_s``, each wait
    drawn at random between half and all of it (replicas do not reconnect in lockstep);
    ``ping_s``: how often an idle connection is checked, and how long its answer may take;
    ``connect_s``: the most one attempt to connect may take (an attempt made while the network
    was cut never completes; the next must start soon after it heals).

    Together they bound how late a replica hears a change after the database is back: about
    ``connect_s + cap_s`` (2 s), and a silent cut is noticed within ``2 × ping_s``. The price is
    one ``SELECT 1`` per second per listener (two per worker)."""

    first_s: float = 0.1
    cap_s: float = 1.0
    ping_s: float = 1.0
    connect_s: float = 1.0

    def delays(self) -> Callable[[], float]:
        """A fresh sequence of waits, one per call."""
        current = self.first_s

        def next_delay() -> float:
            nonlocal current
            delay, current = current, min(current * 2, self.cap_s)
            return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security

        return next_delay


async def notify(session: AsyncSession, channel: str, payload: str) -> None:
    """Announce a committed change on ``channel`` to every listening process."""
    if is_postgres(session):
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )
        await session.commit()
        return
    for callback in list(_local.get(channel, [])):
        await callback(payload)


class Listener:
    """Calls ``callback`` for every message on ``channel``, and with ``"resync"`` after every
    (re)connect and every ``resync_s`` seconds (``None``: never), until stopped."""

    def __init__(
        self,
        engine: AsyncEngine,
        channel: str,
        callback: Callback,
        *,
        resync_s: float | None = None,
        reconnect: Reconnect = Reconnect(),
    ) -> None:
        self.engine, self.channel, self.callback = engine, channel, callback
        self.resync_s, self.reconnect = resync_s, reconnect
        self.connects = 0  # successful subscriptions, the first one included
        self.backend_pid: int | None = None  # the listening connection's, while it has one
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Task[None]] = set()
        self._conn: Any = None
        self._lost: asyncio.Future[None] | None = None  # set when the live connection is lost

    async def start(self) -> None:
        if is_postgres(self.engine):
            self._tasks.append(asyncio.create_task(self._listen_forever()))
        else:
            _local.setdefault(self.channel, []).append(self.callback)
        if self.resync_s is not None:
            self._tasks.append(asyncio.create_task(self._resync_every(self.resync_s)))

    async def stop(self) -> None:
        """Stop at once: the connection is dropped, not closed politely (it may be dead)."""
        with contextlib.suppress(ValueError):
            _local.get(self.channel, []).remove(self.callback)
        tasks = [*self._tasks, *self._pending]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._drop_connection()

    async def _resync_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.callback(RESYNC)
            except Exception:  # keep the loop alive; the next round retries
                logger.warning("periodic resync of %s failed", self.channel, exc_info=True)

    async def _listen_forever(self) -> None:
        delay = self.reconnect.delays()
        while True:
            try:
                await self._listen_once()
                delay = self.reconnect.delays()  # it was up: the next loss starts over
            except asyncio.CancelledError:
                raise
            except Exception:  # no connection, or it broke: reconnect after a pause
                logger.warning("listener on %s lost its connection", self.channel, exc_info=True)
            finally:
                self._drop_connection()
            await asyncio.sleep(delay())

    async def _listen_once(self) -> None:
        """Subscribe, catch up, then wait until the connection is lost; returns when it is."""
        options = connect_options(self.engine)
        connect_s = min(options.connect_timeout_s, self.reconnect.connect_s)
        options = dataclasses.replace(options, connect_timeout_s=connect_s)
        url = self.engine.url.render_as_string(hide_password=False)
        self._conn = conn = await connect_direct(url, options, purpose="listener")
        loop = asyncio.get_running_loop()
        self._lost = lost = loop.create_future()

        def on_lost(_c: Any) -> None:
            if not lost.done():
                lost.set_result(None)

        conn.add_termination_listener(on_lost)
        await conn.add_listener(self.channel, self._on_message)
        self.backend_pid = conn.get_server_pid()
        self.connects += 1
        await self._catch_up(lost)
        while not lost.done():
            await asyncio.wait([lost], timeout=self.reconnect.ping_s)
            if not lost.done():  # a cut network shows no termination: ask
                await conn.fetchval("SELECT 1", timeout=self.reconnect.ping_s)
        logger.warning("listener on %s lost its connection; reconnecting", self.channel)

    async def _catch_up(self, lost: asyncio.Future[None]) -> None:
        """Resync until it succeeds while the connection lives: catches up on whatever changed
        while we were not listening. Just after a database restart the first try may meet a dead
        pooled connection (the pool then replaces them): retry at once, not after a reconnect."""
        delay = self.reconnect.delays()
        while True:
            try:
                await self.callback(RESYNC)
                return
            except Exception:
                logger.warning("resync of %s failed; retrying", self.channel, exc_info=True)
            await asyncio.wait([lost], timeout=delay())
            if lost.done():
                return

    def _on_message(self, _c: Any, _pid: int, _channel: str, payload: str) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(payload))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, payload: str) -> None:
        try:
            await self.callback(payload)
        except Exception:  # e.g. a pooled connection that died with a restart: retry at once
            logger.warning("listener on %s failed to apply a change", self.channel, exc_info=True)
            if self._lost is not None:
                await self._catch_up(self._lost)

    def _drop_connection(self) -> None:
        conn, self._conn, self.backend_pid = self._conn, None, None
        lost, self._lost = self._lost, None
        if lost is not None and not lost.done():
            lost.set_result(None)  # retries tied to this connection end: the next one resyncs
        if conn is not None and not conn.is_closed():
            conn.terminate()
