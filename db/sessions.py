"""Tenant-scoped sessions: the tenant PostgreSQL row-level security reads, set per transaction.

The tenant is set per transaction (``set_config(..., true)``) so that pooled connections
never carry one request's tenant into another's. A request's reads share one session and so
one transaction: BEGIN, the tenant, its statements, ROLLBACK (or COMMIT for a mutation).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, false, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from db.base import Base
from db.dialect import is_postgres
from db.reads import execute_in_greenlet

TENANT_SETTING = "app.tenant_id"
TENANT_INFO_KEY = "tenant_id"
# Transaction-local (``true``): the setting ends with the transaction that set it.
SET_TENANT = text("SELECT set_config(:name, :tenant, true)")


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
    if is_postgres(session):
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
    if session.in_transaction() and is_postgres(session):
        await session.execute(SET_TENANT, _tenant_params(tenant_id))


@event.listens_for(Session, "after_begin")
def _set_tenant_for_transaction(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    if not is_postgres(connection):
        return
    params = _tenant_params(session.info.get(TENANT_INFO_KEY))
    # asyncpg runs it as SQLAlchemy would, without SQLAlchemy's execution around it (db.reads)
    if not execute_in_greenlet(connection, SET_TENANT, params):
        connection.execute(SET_TENANT, params)


def _tenant_params(tenant_id: str | None) -> dict[str, str]:
    # No tenant is "": row-level security then shows no tenant's rows.
    return {"name": TENANT_SETTING, "tenant": tenant_id or ""}
