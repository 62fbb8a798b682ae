"""Database primitives shared by every domain: declarative base, engine, tenant-scoped sessions.

The tenant is set per transaction (``set_config(..., true)``) so that pooled connections
never carry one request's tenant into another's; PostgreSQL row-level security reads it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.types import TypeDecorator

TENANT_SETTING = "app.tenant_id"
TENANT_INFO_KEY = "tenant_id"

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


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    connect_timeout_s: float = 5.0,
    statement_timeout_ms: int = 10_000,
) -> AsyncEngine:
    """Create the process's engine for a SQLite or PostgreSQL URL."""
    if is_postgres(url):
        settings = {"application_name": "pilotgraph"}
        if statement_timeout_ms:
            settings["statement_timeout"] = str(statement_timeout_ms)
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=connect_timeout_s,
            connect_args={"timeout": connect_timeout_s, "server_settings": settings},
        )
    ensure_sqlite_dir(url)
    engine = create_async_engine(url, connect_args={"timeout": connect_timeout_s})
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


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


def scope_session(session: AsyncSession, tenant_id: str | None) -> AsyncSession:
    """Mark a session as acting for one tenant: every transaction it begins sets that tenant."""
    session.info[TENANT_INFO_KEY] = tenant_id
    return session


async def switch_tenant(session: AsyncSession, tenant_id: str | None) -> None:
    """Make the session act for another tenant, in its current transaction too (RLS)."""
    session.info[TENANT_INFO_KEY] = tenant_id
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT set_config(:name, :tenant, true)"),
            {"name": TENANT_SETTING, "tenant": tenant_id or ""},
        )


@event.listens_for(Session, "after_begin")
def _set_tenant_for_transaction(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant_id = session.info.get(TENANT_INFO_KEY)
    connection.execute(
        text("SELECT set_config(:name, :tenant, true)"),
        {"name": TENANT_SETTING, "tenant": tenant_id or ""},
    )
