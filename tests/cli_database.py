"""A migrated SQLite file holding the test world, made the CLI's database for one test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.settings import get_settings
from tests import databases
from tests.world import load_world

Loader = Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]]


@contextmanager
def world_for_cli(
    monkeypatch: pytest.MonkeyPatch, directory: Path, *loaders: Loader
) -> Iterator[databases.TestDatabase]:
    """The world (then each of ``loaders``) in a fresh SQLite file under ``directory``, which
    ``PILOTGRAPH_DATABASE_URL`` names while the block runs."""

    async def make() -> databases.TestDatabase:
        db = await databases.create_sqlite(directory)
        engine = make_engine(db.app_url)
        try:
            for load in (load_world, *loaders):
                await load(make_sessionmaker(engine))
        finally:
            await engine.dispose()
        return db

    db = asyncio.run(make())
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", db.app_url)
    get_settings.cache_clear()
    try:
        yield db
    finally:
        get_settings.cache_clear()
