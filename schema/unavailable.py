"""Recognise a failing or too-slow database behind an unexpected error, so the edge answers 503.

SQLAlchemy wraps a driver's error (``DBAPIError.orig``, and its ``__cause__`` is asyncpg's own
exception); asyncpg's exceptions carry a ``sqlstate``. An error is classified by the first
exception of its chain (``orig``, ``__cause__``, ``__context__``, exception groups) that says
something: the database cannot be reached right now (``SERVICE_UNAVAILABLE``), or a statement
ran over its time (``QUERY_TIMEOUT``). Both are transient: the client may retry.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator
from types import TracebackType

import asyncpg
from sqlalchemy import exc as sa_exc

from db.connections import protocol_broken

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
QUERY_TIMEOUT = "QUERY_TIMEOUT"
# Codes a client may retry after ``Retry-After``: the database, not the request, was at fault.
RETRYABLE = frozenset({SERVICE_UNAVAILABLE, QUERY_TIMEOUT})

# SQLSTATEs: class 08 (connection exceptions) by prefix; admin shutdown, crash shutdown,
# cannot connect now (starting up or shutting down), too many connections; statement timeout.
_UNAVAILABLE_CLASSES = ("08",)
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_TIMEOUT_STATES = frozenset({"57014"})
# SQLite: another writer holds the lock past the busy timeout, or the file cannot be opened.
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN")
_SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked")
# Connection refused or reset, unreachable host, name resolution: the network, not the query.
# Not every OSError: a missing file is a bug, not an outage.
# asyncpg's own, for connections used without SQLAlchemy (db.tenant_connections): the connection
# is closed or gone, as SQLAlchemy's InterfaceError says of its wrapped ones.
_UNREACHABLE = (
    ConnectionError,
    socket.gaierror,
    sa_exc.TimeoutError,
    sa_exc.InterfaceError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EPIPE,
    }
)
# asyncio's create_connection when every address of the host failed differently (::1, 127.0.0.1).
_EVERY_ADDRESS_FAILED = "Multiple exceptions:"
_MAX_CHAIN = 32


def classify(error: BaseException | None) -> str | None:
    """``SERVICE_UNAVAILABLE``, ``QUERY_TIMEOUT`` or None (not the database's fault)."""
    for link in _chain(error):
        code = _classify_one(link)
        if code is not None:
            return code
    return None


def _classify_one(error: BaseException) -> str | None:
    state = _sqlstate(error)
    if state is not None:
        if state in _TIMEOUT_STATES:
            return QUERY_TIMEOUT
        if state in _UNAVAILABLE_STATES or state.startswith(_UNAVAILABLE_CLASSES):
            return SERVICE_UNAVAILABLE
        return None
    if isinstance(error, TimeoutError):  # asyncio.TimeoutError is TimeoutError since 3.11
        return _timeout(error.__traceback__)
    if isinstance(error, sqlite3.OperationalError):
        return SERVICE_UNAVAILABLE if _sqlite_busy(error) else None
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return SERVICE_UNAVAILABLE
    if isinstance(error, _UNREACHABLE) or _network_os_error(error) or protocol_broken(error):
        return SERVICE_UNAVAILABLE
    return None


def _network_os_error(error: BaseException) -> bool:
    if not isinstance(error, OSError):
        return False
    return error.errno in _NETWORK_ERRNOS or str(error).startswith(_EVERY_ADDRESS_FAILED)


def _sqlstate(error: BaseException) -> str | None:
    """asyncpg's ``sqlstate``; SQLAlchemy's adapted error copies it (``pgcode`` too)."""
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return state if isinstance(state, str) and len(state) == 5 else None


def _sqlite_busy(error: sqlite3.OperationalError) -> bool:
    name = getattr(error, "sqlite_errorname", "") or ""
    message = str(error).lower()
    return name.startswith(_SQLITE_BUSY) or any(m in message for m in _SQLITE_BUSY_MESSAGES)


def _timeout(traceback: TracebackType | None) -> str:
    """asyncpg raises a bare ``TimeoutError`` both for ``timeout`` (connecting) and for
    ``command_timeout`` (a statement): only where it was raised tells them apart."""
    files = [frame.tb_frame.f_code.co_filename for frame in _frames(traceback)]
    names = {frame.tb_frame.f_code.co_name for frame in _frames(traceback)}
    if any(f.endswith("connect_utils.py") for f in files) or "__connect" in names:
        return SERVICE_UNAVAILABLE
    if any("asyncpg" in f for f in files):
        return QUERY_TIMEOUT
    return SERVICE_UNAVAILABLE


def _frames(traceback: TracebackType | None) -> Iterator[TracebackType]:
    while traceback is not None:
        yield traceback
        traceback = traceback.tb_next


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error, then what it wraps or was raised from, breadth first, each once, bounded."""
    queue = [error] if error is not None else []
    seen: set[int] = set()
    while queue and len(seen) < _MAX_CHAIN:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        linked = [orig if isinstance(orig, BaseException) else None]
        linked += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            linked += list(current.exceptions)
        queue += [link for link in linked if link is not None]
