"""Database primitives shared by every domain: declarative base, engine, tenant-scoped sessions.

The tenant is set per transaction (``set_config(..., true)``) so that pooled connections
never carry one request's tenant into another's; PostgreSQL row-level security reads it.
A request's reads share one session and so one transaction: BEGIN, the tenant, its statements,
ROLLBACK (or COMMIT for a mutation).
"""

from __future__ import annotations

import datetime as dt
import socket
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import DateTime, MetaData, event, exc, false, make_url, text, update
from sqlalchemy.engine import Connection, Dialect, Engine, ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

TENANT_SETTING = "app.tenant_id"
TENANT_INFO_KEY = "tenant_id"
# Transaction-local (``true``): the setting ends with the transaction that set it.
SET_TENANT = text("SELECT set_config(:name, :tenant, true)")
# A pooled connection idle longer than this is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_S = 5.0
_RETURNED_AT = "pilotgraph_returned_at"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@dataclass(frozen=True, slots=True)
class Keepalive:
    """TCP keepalive of every PostgreSQL connection: a silently dead peer (a cut network, a
    server host gone) is noticed after ``idle_s + interval_s * count`` seconds instead of the
    kernel's two hours; unacknowledged writes give up after as long (``TCP_USER_TIMEOUT``)."""

    idle_s: int = 10
    interval_s: int = 5
    count: int = 3

    @property
    def dead_after_s(self) -> int:
        return self.idle_s + self.interval_s * self.count


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """How every asyncpg connection of a process is made: pooled ones and direct ones alike."""

    connect_timeout_s: float = 5.0
    # Client-side bound on one statement: above the server's statement_timeout, so that a
    # healthy server cancels first (a coded error) and this only fires on a dead connection.
    command_timeout_s: float | None = 15.0
    statement_timeout_ms: int = 10_000
    keepalive: Keepalive = Keepalive()
    application_name: str = "pilotgraph"

    def server_settings(self) -> dict[str, str]:
        settings = {"application_name": self.application_name}
        if self.statement_timeout_ms:
            settings["statement_timeout"] = str(self.statement_timeout_ms)
        return settings


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
) -> AsyncEngine:
    """Create the process's engine for a SQLite or PostgreSQL URL (``max_overflow``: the pool size
    unless given; ``command_timeout_s``: the statement timeout and 5 s more unless given, none
    when statements have no timeout, as bulk loads do: then TCP keepalive bounds a dead peer)."""
    if command_timeout_s is None and statement_timeout_ms:
        command_timeout_s = statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_S
    if is_postgres(url):
        options = ConnectOptions(
            connect_timeout_s,
            command_timeout_s,
            statement_timeout_ms,
            application_name=application_name,
        )
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size if max_overflow is None else max_overflow,
            pool_timeout=connect_timeout_s,
            connect_args={
                "timeout": connect_timeout_s,
                "command_timeout": command_timeout_s,
                "server_settings": options.server_settings(),
            },
        )
        _OPTIONS[engine.sync_engine] = options
        _ping_when_idle(engine, ping_after_idle_s)
        _keepalive_on_connect(engine.sync_engine, options.keepalive)
        event.listen(engine.sync_engine, "handle_error", _timeout_invalidates)
        return engine
    ensure_sqlite_dir(url)
    engine = create_async_engine(
        url,
        connect_args={"timeout": connect_timeout_s},
        **({} if max_overflow is None else {"pool_size": pool_size, "max_overflow": max_overflow}),
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def connect_options(engine: AsyncEngine) -> ConnectOptions:
    """The options ``engine``'s connections are made with (the defaults if it was not made by
    :func:`make_engine`)."""
    return _OPTIONS.get(engine.sync_engine, ConnectOptions())


# Query parameters of the URL that SQLAlchemy's asyncpg dialect consumes: asyncpg would send them
# to the server as settings, which it refuses.
_DIALECT_PARAMETERS = ("prepared_statement_cache_size", "prepared_statement_name_func")


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg takes, from a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    parsed = make_url(url).set(drivername="postgresql").difference_update_query(_DIALECT_PARAMETERS)
    return parsed.render_as_string(hide_password=False)


async def connect_direct(url: str, options: ConnectOptions, *, purpose: str) -> Any:
    """A PostgreSQL connection of its own, outside any pool (``LISTEN``, readiness).

    The same timeouts and keepalive as pooled connections; ``purpose`` is appended to the
    application name, so ``pg_stat_activity`` tells the connections apart.
    """
    settings = options.server_settings()
    settings["application_name"] = f"{options.application_name}-{purpose}"
    conn = await asyncpg.connect(
        asyncpg_dsn(url),
        timeout=options.connect_timeout_s,
        command_timeout=options.command_timeout_s,
        server_settings=settings,
    )
    set_keepalive(conn, options.keepalive)
    return conn


def set_keepalive(conn: Any, keepalive: Keepalive) -> None:
    """Turn on TCP keepalive (and the user timeout) on an asyncpg connection's socket.

    asyncpg has no option for it; its transport exposes the socket. Unix sockets have no
    keepalive and are left alone.
    """
    sock = conn._transport.get_extra_info("socket")  # asyncpg has no public accessor
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (
        ("TCP_KEEPIDLE", keepalive.idle_s),
        ("TCP_KEEPINTVL", keepalive.interval_s),
        ("TCP_KEEPCNT", keepalive.count),
        ("TCP_USER_TIMEOUT", keepalive.dead_after_s * 1000),
    ):
        if hasattr(socket, name):  # Linux has all four; other systems some
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


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


def make_sessionmaker(bind: AsyncEngine | Any, **kwargs: Any) -> async_sessionmaker[AsyncSession]:
    """Sessions that set the tenant at the start of every transaction they begin."""
    return async_sessionmaker(bind=bind, expire_on_commit=False, **kwargs)


async def lock_sqlite_for_writing(session: AsyncSession, model: type[Base]) -> None:
    """On SQLite, take the database's write lock now, before the transaction reads anything.

    A SQLite reader that later writes cannot wait for another writer: it fails (or the two
    deadlock). Workers that read then write (claim a step, pause a plan) take the lock first, with
    an update of ``model``'s table that touches no row, so a second worker waits for the first
    (``busy_timeout``). PostgreSQL locks the rows read ``FOR UPDATE`` instead: nothing to do.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    key = next(iter(model.__table__.primary_key))
    await session.execute(update(model).where(false()).values({key: key}))


def scope_session(session: AsyncSession, tenant_id: str | None) -> AsyncSession:
    """Mark a session as acting for one tenant: every transaction it begins sets that tenant."""
    session.info[TENANT_INFO_KEY] = tenant_id
    return session


async def switch_tenant(session: AsyncSession, tenant_id: str | None) -> None:
    """Make the session act for another tenant, in its current transaction too (RLS).

    Outside a transaction only the mark changes: the next transaction sets the tenant as it
    begins, so the setting is not sent twice.
    """
    session.info[TENANT_INFO_KEY] = tenant_id
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        await session.execute(SET_TENANT, _tenant_params(tenant_id))


@event.listens_for(Session, "after_begin")
def _set_tenant_for_transaction(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    if connection.dialect.name != "postgresql":
        return
    connection.execute(SET_TENANT, _tenant_params(session.info.get(TENANT_INFO_KEY)))


def _tenant_params(tenant_id: str | None) -> dict[str, str]:
    # No tenant is "": row-level security then shows no tenant's rows.
    return {"name": TENANT_SETTING, "tenant": tenant_id or ""}
