"""Engine and sessions: SQLite by default, PostgreSQL (asyncpg) in CI and production."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from member_development.models import Base


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite") and ":///" in url and not url.endswith(":memory:"):
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    return create_async_engine(url)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_tables(engine: AsyncEngine) -> None:
    """Create the tables if missing (this small service has no migrations yet)."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
