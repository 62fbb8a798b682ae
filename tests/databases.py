"""Fresh databases per test run: a SQLite file, and a PostgreSQL database with the app role."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from gateway import migrate
from gateway.roles import create_app_role

PG_HOST = os.environ.get("PILOTGRAPH_TEST_PG_HOST", "127.0.0.1")
APP_ROLE = "pilotgraph_app"


@dataclass(frozen=True)
class PgServer:
    """Where a PostgreSQL server listens; its superuser connects with trust auth."""

    host: str = PG_HOST
    port: int = 5432
    superuser: str = "postgres"

    def url(self, database: str, user: str | None = None) -> str:
        return f"postgresql+asyncpg://{user or self.superuser}@{self.host}:{self.port}/{database}"

    async def connect(self, database: str = "postgres") -> asyncpg.Connection:
        return await asyncpg.connect(
            host=self.host, port=self.port, user=self.superuser, database=database, timeout=5
        )


SHARED = PgServer()  # the machine's server: every test database is created there


@dataclass(frozen=True)
class TestDatabase:
    backend: str
    app_url: str  # what the gateway connects as (no BYPASSRLS on PostgreSQL)
    admin_url: str  # owner: migrations, test set-up
    name: str


async def postgres_reachable(server: PgServer = SHARED) -> str | None:
    """None when PostgreSQL answers, else the reason."""
    try:
        conn = await server.connect()
    except (OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def create_postgres(revision: str = "head", server: PgServer = SHARED) -> TestDatabase:
    name = f"pilotgraph_test_{uuid.uuid4().hex[:10]}"
    conn = await server.connect()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    admin = server.url(name)
    await asyncio.to_thread(migrate.upgrade, admin, revision)
    await create_app_role(admin, name=APP_ROLE, password=None)
    return TestDatabase("postgresql", server.url(name, APP_ROLE), admin, name)


async def drop_postgres(db: TestDatabase, server: PgServer = SHARED) -> None:
    conn = await server.connect()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    finally:
        await conn.close()


async def create_sqlite(directory: Path, revision: str = "head") -> TestDatabase:
    url = f"sqlite+aiosqlite:///{directory / 'pilotgraph.db'}"
    await asyncio.to_thread(migrate.upgrade, url, revision)
    return TestDatabase("sqlite", url, url, str(directory))
