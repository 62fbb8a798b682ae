"""Rollout fixtures: a session on the test's rolled-back transaction, and a fake KPI source."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.engine import make_engine
from db.sessions import make_sessionmaker
from tests import databases
from tests.rollout.fakes import FakeKpiSource
from tests.world import load_world


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints of the test's transaction."""
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    async with maker() as session:
        yield session


@pytest.fixture
def kpis() -> FakeKpiSource:
    return FakeKpiSource()


@pytest.fixture
async def fresh(database, tmp_path) -> AsyncIterator[databases.TestDatabase]:
    """A database of the same backend that tests may commit to (several engines, processes)."""
    if database.backend == "postgresql":
        db = await databases.create_postgres()
    else:
        db = await databases.create_sqlite(tmp_path)
    engine = make_engine(db.app_url)
    await load_world(make_sessionmaker(engine))
    await engine.dispose()
    yield db
    if db.backend == "postgresql":
        await databases.drop_postgres(db)
