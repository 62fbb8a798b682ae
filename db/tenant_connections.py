"""Connections that keep their tenant: a small asyncpg pool for single read statements.

A planned statement (:mod:`planner`) is one read-only ``SELECT``. On these connections the tenant
row-level security reads is set for the session (``set_config('app.tenant_id', …, false)``)
rather than for a transaction, so a statement runs in its own implicit transaction: no
``BEGIN`` and no ``ROLLBACK`` round trip, and a connection that last served the same tenant needs
no ``set_config`` at all. A checkout prefers an idle connection already set to the tenant.

The connections are never lent to other code, and every statement sent on one is preceded by
the tenant it needs, so a session-level tenant cannot reach a statement of another tenant. A
connection that fails, or whose statement is cancelled mid-way, is terminated and never reused;
a failure of the connection itself (not of the statement) drops the idle ones too, as the
engine's pool does after a disconnect. A connection idle for :data:`db.engine.PING_AFTER_IDLE_S`
or longer is pinged before use. At most ``size`` connections are open; a checkout waits up to
the connect timeout for one, then fails as an exhausted engine pool does (503).
"""

from __future__ import annotations

import asyncio
import collections
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from db.connections import ConnectOptions, connect_direct, reraise_lost
from db.engine import PING_AFTER_IDLE_S, connect_options
from db.sessions import TENANT_SETTING

_SET_TENANT = "SELECT set_config($1, $2, false)"
PURPOSE = "planned"
_POOLS: weakref.WeakKeyDictionary[Any, TenantConnections] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class _Held:
    connection: Any  # asyncpg.Connection
    tenant: str | None  # what app.tenant_id holds for the session; None: not set yet
    returned_at: float


class TenantConnections:
    """At most ``size`` asyncpg connections, each remembering the tenant it is set to."""

    def __init__(self, url: str, options: ConnectOptions, size: int) -> None:
        self.url = url
        self.options = options
        self.size = size
        self.opened = 0  # connections open or being opened
        self._idle: list[_Held] = []  # most recently returned last
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def fetchval(self, tenant: str, sql: str, parameters: Sequence[Any]) -> Any:
        """The first value of ``sql``'s first row, read as ``tenant`` (row-level security).

        The statement only reads, so when a reused connection turns out dead (the server
        restarted since it was last used) it runs again, once, on a fresh connection."""
        held = await self._checkout(tenant)
        fresh = held.tenant is None
        try:
            return await self._fetchval(held, tenant, sql, parameters)
        except Exception as error:
            if fresh or not _connection_failed(error):
                raise
        return await self._fetchval(await self._checkout(tenant), tenant, sql, parameters)

    async def _fetchval(self, held: _Held, tenant: str, sql: str, parameters: Sequence[Any]) -> Any:
        try:
            if held.tenant != tenant:
                held.tenant = None  # unknown until set_config answers
                await held.connection.execute(_SET_TENANT, TENANT_SETTING, tenant)
                held.tenant = tenant
            value = await held.connection.fetchval(sql, *parameters)
        except BaseException as error:
            self._discard(held, drop_idle=_connection_failed(error))
            reraise_lost(error)
        self._checkin(held)
        return value

    async def close(self) -> None:
        """Close the idle connections; the ones in use are closed as they come back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for held in idle:
            self.opened -= 1
            held.connection.terminate()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(sa_exc.InterfaceError("closed", None, Exception("closed")))

    async def _checkout(self, tenant: str) -> _Held:
        deadline = time.monotonic() + self.options.connect_timeout_s
        while True:
            if self._closed:
                raise sa_exc.InterfaceError("planned connections are closed", None, Exception())
            held = self._take_idle(tenant)
            if held is not None:
                if held.connection.is_closed():  # the server ended it while it sat idle
                    self._discard(held, drop_idle=True)
                    continue
                if await self._alive(held):
                    return held
                continue
            if self.opened < self.size:
                return await self._open()
            await self._wait(deadline)

    def _take_idle(self, tenant: str) -> _Held | None:
        for index in range(len(self._idle) - 1, -1, -1):
            if self._idle[index].tenant == tenant:
                return self._idle.pop(index)
        return self._idle.pop() if self._idle else None

    async def _alive(self, held: _Held) -> bool:
        if time.monotonic() - held.returned_at < PING_AFTER_IDLE_S:
            return True
        try:
            await held.connection.execute("SELECT 1")
        except Exception:  # any failure: replace it, and every idle one from before
            self._discard(held, drop_idle=True)
            return False
        return True

    async def _open(self) -> _Held:
        self.opened += 1
        try:
            connection = await connect_direct(self.url, self.options, purpose=PURPOSE)
        except BaseException:
            self.opened -= 1
            self._wake()
            raise
        return _Held(connection, None, time.monotonic())

    async def _wait(self, deadline: float) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await waiter
        except TimeoutError as exc:
            raise sa_exc.TimeoutError(
                f"no planned connection free within {self.options.connect_timeout_s} s "
                f"({self.size} in use)"
            ) from exc
        finally:
            if waiter in self._waiting:
                self._waiting.remove(waiter)

    def _checkin(self, held: _Held) -> None:
        if self._closed:
            self._discard(held, drop_idle=False)
            return
        held.returned_at = time.monotonic()
        self._idle.append(held)
        self._wake()

    def _discard(self, held: _Held, *, drop_idle: bool) -> None:
        self.opened -= 1
        if not held.connection.is_closed():
            held.connection.terminate()  # no polite close: a silent network would be waited on
        if drop_idle:
            stale, self._idle = self._idle, []
            for other in stale:
                self.opened -= 1
                other.connection.terminate()
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


def _connection_failed(error: BaseException) -> bool:
    """The connection itself failed (the server went away), not just the statement."""
    return isinstance(
        error,
        asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.InternalClientError  # the server's goodbye arrived while idle
        | OSError,
    )


def tenant_connections(engine: AsyncEngine) -> TenantConnections:
    """The planned connections beside ``engine``: its URL and options, its pool's size."""
    pool = _POOLS.get(engine.sync_engine)
    if pool is None:
        url = engine.url.render_as_string(hide_password=False)
        size = getattr(engine.sync_engine.pool, "size", lambda: 10)()
        pool = _POOLS[engine.sync_engine] = TenantConnections(url, connect_options(engine), size)
    return pool


async def close_tenant_connections(engine: AsyncEngine) -> None:
    """Close ``engine``'s planned connections, if it has any."""
    pool = _POOLS.pop(engine.sync_engine, None)
    if pool is not None:
        await pool.close()
