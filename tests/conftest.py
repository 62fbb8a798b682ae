"""Fixtures: both databases, a hand-made world, a transactional app per test, role tokens."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.app import build_state, create_app
from gateway.auth import issue_development_token
from gateway.settings import Settings
from gateway.state import GatewayState
from tenants.types import PROVINCE_ROLES, Role
from tests import databases
from tests.graphql import asgi_client
from tests.world import NOW, PROVINCE, load_world

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Gateways that tests start as processes (`pilotgraph serve`) inherit this, so two of them never
# compete for the default metrics port; the tests of the metrics port choose free ports.
os.environ.setdefault("PILOTGRAPH_METRICS_PORT", "0")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=BACKENDS)
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[databases.TestDatabase]:
    """A fresh, migrated database of each backend, holding the hand-made world."""
    if request.param == "sqlite":
        db = await databases.create_sqlite(tmp_path_factory.mktemp("sqlite"))
    else:
        reason = await databases.postgres_reachable()
        if reason is not None:
            if IN_CI:
                pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
            pytest.skip(f"PostgreSQL unreachable: {reason}")
        db = await databases.create_postgres()
    engine = make_engine(db.app_url)
    await load_world(make_sessionmaker(engine))
    await engine.dispose()
    yield db
    if db.backend == "postgresql":
        await databases.drop_postgres(db)


@pytest.fixture(scope="session")
async def app_engine(database: databases.TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database.app_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(app_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection in an outer transaction that is rolled back after the test."""
    async with app_engine.connect() as conn:
        transaction = await conn.begin()
        if conn.dialect.name == "sqlite":
            # pysqlite begins lazily, before the first write: a SAVEPOINT issued first would
            # open (and its RELEASE commit) a transaction of its own, leaking into other tests.
            await conn.exec_driver_sql("BEGIN")
        yield conn
        await transaction.rollback()


@dataclass
class StatementCounter:
    count: int = 0


@pytest.fixture
def statements(app_engine: AsyncEngine) -> StatementCounter:
    counter = StatementCounter()

    def count(*_args: Any) -> None:
        counter.count += 1

    event.listen(app_engine.sync_engine, "before_cursor_execute", count)
    yield counter  # type: ignore[misc]
    event.remove(app_engine.sync_engine, "before_cursor_execute", count)


def make_settings(database: databases.TestDatabase, **overrides: Any) -> Settings:
    return Settings(database_url=SecretStr(database.app_url), **overrides)


@pytest.fixture
def settings(database: databases.TestDatabase) -> Settings:
    return make_settings(database)


@pytest.fixture
async def gateway(
    settings: Settings, connection: AsyncConnection, app_engine: AsyncEngine
) -> GatewayState:
    """The gateway's state over the test's transaction; every request's commit is a savepoint."""
    state = build_state(
        settings,
        sessionmaker=make_sessionmaker(connection, join_transaction_mode="create_savepoint"),
    )
    await state.engine.dispose()
    state.engine = app_engine
    state.clock = lambda: NOW
    await state.registry.reload(state.sessionmaker)
    return state


Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_for(gateway: GatewayState) -> AsyncIterator[Client]:
    """``client_for(token=..., prefix='/t/kim-son')`` → an httpx client on the in-process app."""
    app = create_app(gateway.settings, state=gateway)
    clients: list[httpx.AsyncClient] = []

    def make(token: str | None = None, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        client = asgi_client(app, token, headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


TokenFactory = Callable[..., str]


@pytest.fixture
def token(settings: Settings) -> TokenFactory:
    """``token(Role.MEMBER, tenant='yen-mo', subject=...)`` → a signed development token.

    Province roles name the world's province unless ``province`` says otherwise.
    """

    def make(
        role: Role,
        *,
        tenant: str | None = None,
        subject: str = "someone",
        province: str | None = None,
        name: str | None = None,
    ) -> str:
        if role in PROVINCE_ROLES and province is None:
            province = PROVINCE
        return issue_development_token(
            settings, subject=subject, roles=[role], tenant=tenant, province=province, name=name
        )

    return make
