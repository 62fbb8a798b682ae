"""The suite's own world on each backend, an in-process gateway over it, and the attempt count."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.app import build_state, create_app
from gateway.settings import Settings
from gateway.state import GatewayState
from rollout.flag_catalogue import CATALOGUE
from tests import databases
from tests.graphql import asgi_client
from tests.security import principals, transport, truth, world
from tests.security.operations import Target

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SPENT = {"s": 0.0}  # set-up, call and teardown of this suite's tests, not the whole session


@dataclass
class Arena:
    """One backend: the gateway app, its client, the owner's engine and the ground truth."""

    backend: str
    settings: Settings
    state: GatewayState
    app: object
    client: httpx.AsyncClient
    owner: AsyncEngine
    truth: truth.Truth

    async def rows(self) -> truth.Rows:
        async with self.owner.connect() as conn:
            return await truth.read_rows(conn)

    async def checksums(self) -> dict[tuple[str, str], str]:
        return truth.checksums(await self.rows())

    async def refresh(self) -> None:
        self.truth = truth.truth_from(await self.rows(), world.PROVINCES)

    def target(self, slug: str, *, raw_ids: bool = False) -> Target:
        """``slug``'s real identifiers; flags: its plans' and those no plan stages."""
        planned = {f for flags in self.truth.flags.values() for f in flags}
        free = [k.value for k in CATALOGUE if k.value not in planned]
        seed = next(t for t in world.TENANTS if t.slug == slug)
        return Target(
            slug,
            (*self.truth.flags.get(slug, []), *free),
            self.truth.ids.get(slug, {}),
            search=seed.label,
            versions=self.truth.versions,
            raw_ids=raw_ids,
        )

    def token(self, caller: principals.Caller) -> str:
        return principals.sign(self.settings, caller.claims)


async def _database(backend: str, tmp: pytest.TempPathFactory) -> databases.TestDatabase:
    if backend == "sqlite":
        return await databases.create_sqlite(tmp.mktemp("security"))
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")
    return await databases.create_postgres()


async def _graphql(arena: Arena, caller: principals.Caller, query: str) -> dict:
    headers = {"Authorization": f"Bearer {arena.token(caller)}"}
    response = await arena.client.post("/graphql", json={"query": query}, headers=headers)
    return response.json()


async def _plans(arena: Arena) -> None:
    """Each province stages its own flag, through the API as its province admin would."""
    for province, (flag, waves) in world.PLANS.items():
        admin = principals.province_admin(province)
        listed = ", ".join(
            f'{{name: "wave {i}", tenants: {list(w)!r}}}'.replace("'", '"')
            for i, w in enumerate(waves)
        )
        created = await _graphql(
            arena,
            admin,
            f'mutation {{ createRolloutPlan(flag: "{flag}", '
            f"waves: [{listed}]) {{ errors {{ code message }} }} }}",
        )
        assert created["data"]["createRolloutPlan"]["errors"] == [], created
        started = await _graphql(
            arena,
            admin,
            f'mutation {{ startRollout(flag: "{flag}") {{ applied errors {{ code message }} }} }}',
        )
        assert started["data"]["startRollout"]["errors"] == [], started


async def _events(arena: Arena) -> None:
    """A login and a session per tenant, by its member: adoption data to read."""
    now = dt.datetime.now(dt.UTC).isoformat()
    for seed in world.TENANTS:
        member = next(c for c in principals.callers() if c.name == f"member@{seed.slug}")
        events = ", ".join(
            f'{{id: "{uuid.uuid4()}", type: "{kind}", timestamp: "{now}", '
            f'deviceId: "device-{seed.slug}"}}'
            for kind in ("login", "session_started")
        )
        await _graphql(
            arena, member, f"mutation {{ trackEvents(events: [{events}]) {{ accepted }} }}"
        )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def arena(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Arena]:
    """The two-province world on one backend, the gateway as the app role, the owner's view."""
    db = await _database(request.param, tmp_path_factory)
    loader = make_engine(db.app_url)
    await world.load(make_sessionmaker(loader))
    await loader.dispose()
    settings = Settings(database_url=SecretStr(db.app_url))
    state = build_state(settings)
    await state.registry.reload(state.sessionmaker)
    app = create_app(settings, state=state)
    owner = make_engine(db.admin_url)
    arena = Arena(
        db.backend, settings, state, app, asgi_client(app), owner, truth.Truth({}, {}, {}, {}, {})
    )
    await _plans(arena)
    await _events(arena)
    await arena.refresh()
    yield arena
    await arena.client.aclose()
    await owner.dispose()
    await state.engine.dispose()
    if db.backend == "postgresql":
        await databases.drop_postgres(db)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith("tests/security/"):
        SPENT["s"] += report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    total = sum(transport.ATTEMPTS.values())
    if not total:
        return
    by = ", ".join(f"{k} {v}" for k, v in sorted(transport.ATTEMPTS.items()))
    terminalreporter.write_line(f"security suite: {total} attempts ({by}) in {SPENT['s']:.1f} s")
