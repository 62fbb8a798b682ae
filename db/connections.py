"""PostgreSQL connection options (timeouts, TCP keepalive) and connections made outside the pool.

The same options apply to the engine's pooled connections (:mod:`db.engine`) and to the
connections a process opens on its own (``LISTEN``, readiness), so neither waits on a dead peer
longer than the other.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, NoReturn

import asyncpg
from sqlalchemy import make_url


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


class ConnectionLost(ConnectionError):
    """The connection broke under a statement: the server ended it, or asyncpg's protocol was
    left mid-operation by the server's goodbye (``InternalClientError``). Raised from the
    driver's error so the edge answers it as the database's outage (503), not as a bug."""


# What asyncpg says when the server's goodbye (a killed server, a terminated backend) arrived
# between two steps of its protocol: the connection is dead, not the statement wrong.
_BROKEN_PROTOCOL = "cannot switch to state"


def protocol_broken(error: BaseException) -> bool:
    """asyncpg's protocol left mid-operation by the server's goodbye, raised by asyncpg itself or
    translated by SQLAlchemy's adapter (which keeps asyncpg's error as the cause)."""
    return any(
        isinstance(link, asyncpg.exceptions.InternalClientError)
        and str(link).startswith(_BROKEN_PROTOCOL)
        for link in (error, error.__cause__)
    )


def reraise_lost(error: BaseException) -> NoReturn:
    """Raise ``error`` again; a broken protocol as :class:`ConnectionLost`, caused by it."""
    if protocol_broken(error):
        raise ConnectionLost(f"the connection broke: {error}") from error
    raise error
