"""Alembic environment: runs the same revisions on SQLite and PostgreSQL, async."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import adoption.models  # noqa: F401  (registers the adoption tables)
import rollout.models
import rollout.webhooks.models  # noqa: F401  (registers the webhook tables)
import tenants.credentials.models
import tenants.handbook.models
import tenants.models  # noqa: F401  (registers the hierarchy tables)
from db.base import Base
from db.dialect import is_postgres

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=not is_postgres(connection),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


url = context.config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("sqlalchemy.url is not configured")
asyncio.run(_run_async(url))
