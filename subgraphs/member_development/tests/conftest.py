"""Fixtures: the demo on SQLite and on PostgreSQL, an in-process client, signed tokens."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from member_development import demo
from member_development.app import create_app
from member_development.db import create_tables, make_engine, make_sessionmaker
from member_development.settings import DEVELOPMENT_JWT_SECRET, Settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_DSN = os.environ.get("MEMBER_DEVELOPMENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


async def _create_postgres() -> str | None:
    name = f"md_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(f"{PG_ADMIN_DSN}/postgres", timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {exc}")
        return None
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name


async def _drop_postgres(name: str) -> None:
    conn = await asyncpg.connect(f"{PG_ADMIN_DSN}/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A fresh database of each backend holding the 2023 demo."""
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('md')}/md.db"
    else:
        pg_name = await _create_postgres()
        if pg_name is None:
            pytest.skip("PostgreSQL unreachable")
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name}"
    engine = make_engine(url)
    await create_tables(engine)
    assert await demo.load(make_sessionmaker(engine))
    yield engine
    await engine.dispose()
    if pg_name is not None:
        await _drop_postgres(pg_name)


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
def settings() -> Settings:
    return Settings()


Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_for(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Client]:
    app = create_app(settings, engine=engine)
    clients: list[httpx.AsyncClient] = []

    def make(token: str | None = None, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        merged = dict(headers or {})
        if token is not None:
            merged["Authorization"] = f"Bearer {token}"
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=merged
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def token(role: str, *, tenant: str | None = None, **claims: Any) -> str:
    """A token as ``pilotgraph token`` signs it."""
    now = dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {
        "sub": "someone",
        "roles": [role],
        "iss": "pilotgraph-dev",
        "aud": "pilotgraph",
        "iat": now,
        "exp": now + dt.timedelta(hours=1),
        **claims,
    }
    if tenant is not None:
        body["tenant"] = tenant
    return jwt.encode(body, DEVELOPMENT_JWT_SECRET, algorithm="HS256")


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    return response.status_code, response.json()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]
