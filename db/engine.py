"""The process's engine: a pool of PostgreSQL connections that notices dead peers, or SQLite.

A PostgreSQL connection carries a statement timeout, a client-side command timeout above it and
TCP keepalive (:mod:`db.connections`); an idle pooled connection is pinged before use, and one
that timed out on the client side is dropped at once. SQLite gets its folder, foreign keys, WAL
and a busy timeout.
"""

from __future__ import annotations

import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from db.connections import ConnectOptions, Keepalive, set_keepalive
from db.dialect import is_postgres

# A pooled connection idle longer than this is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_S = 5.0
_RETURNED_AT = "pilotgraph_returned_at"

# How much longer than the server's statement timeout the client waits for an answer by default.
COMMAND_TIMEOUT_MARGIN_S = 5.0
# The options each engine's connections were made with, for the direct connections made beside it.
_OPTIONS: weakref.WeakKeyDictionary[Engine, ConnectOptions] = weakref.WeakKeyDictionary()


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int | None = None,
    connect_timeout_s: float = 5.0,
    statement_timeout_ms: int = 10_000,
    command_timeout_s: float | None = None,
    ping_after_idle_s: float = PING_AFTER_IDLE_S,
    application_name: str = "pilotgraph",
    pooled: bool = True,
) -> AsyncEngine:
    """Create the process's engine for a SQLite or PostgreSQL URL (``max_overflow``: the pool size
    unless given; ``command_timeout_s``: the statement timeout and 5 s more unless given, none
    when statements have no timeout, as bulk loads do: then TCP keepalive bounds a dead peer).

    ``pooled=False`` (PostgreSQL): every session opens a fresh connection and closes it, for
    rare background work that must not meet a pooled connection a network cut left silent."""
    if command_timeout_s is None and statement_timeout_ms:
        command_timeout_s = statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_S
    if not is_postgres(url):
        sized = (
            {} if max_overflow is None else {"pool_size": pool_size, "max_overflow": max_overflow}
        )
        return _sqlite_engine(url, connect_timeout_s, sized)
    options = ConnectOptions(
        connect_timeout_s,
        command_timeout_s,
        statement_timeout_ms,
        application_name=application_name,
    )
    pool: dict[str, Any] = {"poolclass": NullPool}
    if pooled:
        overflow = pool_size if max_overflow is None else max_overflow
        pool = {"pool_size": pool_size, "max_overflow": overflow, "pool_timeout": connect_timeout_s}
    return _postgres_engine(url, options, pool, ping_after_idle_s)


def _postgres_engine(
    url: str, options: ConnectOptions, pool: dict[str, Any], ping_after_idle_s: float
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        **pool,
        connect_args={
            "timeout": options.connect_timeout_s,
            "command_timeout": options.command_timeout_s,
            "server_settings": options.server_settings(),
        },
    )
    _OPTIONS[engine.sync_engine] = options
    _ping_when_idle(engine, ping_after_idle_s)
    _keepalive_on_connect(engine.sync_engine, options.keepalive)
    event.listen(engine.sync_engine, "handle_error", _timeout_invalidates)
    return engine


def _sqlite_engine(url: str, connect_timeout_s: float, sized: dict[str, int]) -> AsyncEngine:
    ensure_sqlite_dir(url)
    engine = create_async_engine(url, connect_args={"timeout": connect_timeout_s}, **sized)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def connect_options(engine: AsyncEngine) -> ConnectOptions:
    """The options ``engine``'s connections are made with (the defaults if it was not made by
    :func:`make_engine`)."""
    return _OPTIONS.get(engine.sync_engine, ConnectOptions())


def _timeout_invalidates(context: ExceptionContext) -> None:
    """A client-side command timeout means the server did not cancel the statement itself (its
    statement timeout is shorter): the connection is presumed dead. Drop it at once: a rollback,
    or SQLAlchemy's polite close before discarding it (2 s), would wait again on a silent network.
    """
    if not isinstance(context.original_exception, TimeoutError):
        return
    context.is_disconnect = True
    pooled = context.connection.connection if context.connection is not None else None
    driver: Any = getattr(pooled, "driver_connection", None)
    if driver is not None and not driver.is_closed():
        driver.terminate()


def _keepalive_on_connect(engine: Engine, keepalive: Keepalive) -> None:
    def connected(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        set_keepalive(dbapi_conn.driver_connection, keepalive)

    event.listen(engine, "connect", connected)


def _ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle for ``idle_s`` or longer.

    ``pool_pre_ping`` would ping on every checkout, and on asyncpg a ping is a transaction of
    its own (BEGIN, an empty query, ROLLBACK): three round trips per request. A connection in
    steady use does not go stale unnoticed: a disconnect it meets fails that statement and
    invalidates every connection the pool held before it. An idle one (the server restarted,
    a proxy timed it out) is pinged; when the ping fails, the pool replaces it and every
    connection it held before, as a failed ``pool_pre_ping`` does.
    """
    dialect = engine.dialect

    def returned(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get(_RETURNED_AT)  # none: a fresh connection, nothing to check
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            dialect.do_ping(dbapi)
        except Exception as error:  # any failure: replace it and the others from before
            raise exc.InvalidatePoolError(f"idle connection failed its ping: {error}") from error

    event.listen(engine.sync_engine.pool, "checkin", returned)
    event.listen(engine.sync_engine.pool, "checkout", checkout)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file URL; other URLs are left alone."""
    if not url.startswith("sqlite"):
        return
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
