"""Which backend a URL or a live bind speaks: the one question code asks of the dialect.

PilotGraph runs on two backends, SQLite (embedded default) and PostgreSQL (production); code that
differs between them asks :func:`is_postgres`, whatever it holds: the configured URL before an
engine exists, or the engine, connection or session it works with.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

Bind = (
    str
    | URL
    | Dialect
    | Engine
    | Connection
    | AsyncEngine
    | AsyncConnection
    | Session
    | AsyncSession
)

POSTGRESQL = "postgresql"


def is_postgres(bind: Bind) -> bool:
    """True when ``bind`` (a URL, a dialect, an engine, a connection or a session) is PostgreSQL."""
    return _backend(bind) == POSTGRESQL


def _backend(bind: Bind) -> str:
    if isinstance(bind, str):  # "postgresql+asyncpg://…", "sqlite+aiosqlite:///…"
        return bind.split(":", 1)[0].split("+", 1)[0]
    if isinstance(bind, URL):
        return bind.get_backend_name()
    if isinstance(bind, Dialect):
        return bind.name
    if isinstance(bind, Session | AsyncSession):
        return bind.get_bind().dialect.name
    return bind.dialect.name
