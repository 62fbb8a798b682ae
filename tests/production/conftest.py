"""The production profile, run as a province runs it, once for the package.

``pilotgraph serve --workers 2`` in production mode, as a subprocess on a free port, over a fresh
PostgreSQL database (as the app role, under row-level security) holding the demo province; only
the committed trusted documents run; tokens are RS256 from a Keycloak-shaped realm's JWKS; rate
limits in Redis; metrics on their own port; traces exported over OTLP/HTTP to a local receiver.
Nothing here skips in CI: a missing piece fails the tests.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from tenants.demo.build import MEMBER, SECRETARY
from tenants.handbook.read_model import first_member_with_position
from tests import databases
from tests.conftest import IN_CI
from tests.keycloak import KeycloakRealm, KeycloakUser, running_keycloak
from tests.otlp import OtlpReceiver
from tests.production.database import CLI, ROOT, demo_database
from tests.production.ports import free_port

MANIFEST = ROOT / "clients" / "trusted-documents" / "manifest.json"
WORKERS = 2
REDIS_DB = 15  # flushed before the gateway starts
READY_TIMEOUT_S = 90.0
PROVINCE = "ninh-binh"
TENANT = "yen-mo"


@dataclass(frozen=True)
class Profile:
    """The running gateway and everything around it."""

    url: str
    metrics_url: str
    realm: KeycloakRealm
    receiver: OtlpReceiver
    env: dict[str, str]  # the PILOTGRAPH_* variables the gateway ran with
    log: Path


def _profile_env(
    database: databases.TestDatabase, realm: KeycloakRealm, otlp: str, metrics_port: int
) -> dict[str, str]:
    edge = {"persisted": "trusted", "rate_limits_enabled": True, "trusted_manifest": str(MANIFEST)}
    return {
        "PILOTGRAPH_ENVIRONMENT": "production",
        "PILOTGRAPH_DATABASE_URL": database.app_url,
        "PILOTGRAPH_JWKS_URL": realm.jwks_url,
        "PILOTGRAPH_JWT_ISSUER": realm.issuer,
        "PILOTGRAPH_JWT_AUDIENCE": realm.audience,
        "PILOTGRAPH_OIDC_ISSUER": realm.issuer,
        "PILOTGRAPH_OIDC_CLIENT_ID": realm.client_id,
        "PILOTGRAPH_CLAIM_ROLES": "realm_access.roles",
        "PILOTGRAPH_EDGE": json.dumps(edge),
        "PILOTGRAPH_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "PILOTGRAPH_METRICS_PORT": str(metrics_port),
        "PILOTGRAPH_OTLP_ENDPOINT": otlp,  # the collector's base URL; spans go to /v1/traces
        "PILOTGRAPH_INSTALL_TOKEN_KEY": secrets.token_urlsafe(48),
        # the federation router's credential (tests/production/test_federation.py)
        "PILOTGRAPH_ROUTER_TOKEN": secrets.token_urlsafe(32),
        "PILOTGRAPH_LOG_JSON": "true",
        "PILOTGRAPH_GRAPHIQL": "false",
        # as helm/pilotgraph/ci/production-values.yaml sets them (tests/production/test_chart.py)
        "PILOTGRAPH_GUARDRAIL_DROP": "0.25",
        "PILOTGRAPH_GUARDRAIL_MIN_ACTIVE": "50",
        "PILOTGRAPH_GUARDRAIL_INTERVAL_S": "600",
        # the chart's own Service names (webhooks may not point at the gateway itself)
        "PILOTGRAPH_PUBLIC_HOSTS": "pg-pilotgraph,pg-pilotgraph.pilot,pg-pilotgraph.pilot.svc",
    }


def _flush_redis() -> None:
    """Empty the profile's Redis database; without Redis, skip (fail in CI)."""
    try:
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").flushdb()
    except redis.RedisError as exc:
        reason = f"the production profile needs Redis at 127.0.0.1:6379: {exc}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the gateway exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the gateway was not ready:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="package")
async def production_database() -> AsyncIterator[databases.TestDatabase]:
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")
    db = await demo_database()
    yield db
    await databases.drop_postgres(db)


@dataclass(frozen=True)
class People:
    """Demo members of Yen Mo, by id: the realm's users carry them as ``member_id``."""

    member: str
    secretary: str


@pytest.fixture(scope="package")
async def people(production_database: databases.TestDatabase) -> People:
    engine = make_engine(production_database.app_url)
    try:
        sessions = make_sessionmaker(engine)
        found = {}
        for position in (MEMBER, SECRETARY):
            async with scope_session(sessions(), TENANT) as session:
                found[position] = await first_member_with_position(
                    session=session, tenant_id=TENANT, position=position
                )
    finally:
        await engine.dispose()
    assert None not in found.values(), found
    return People(member=str(found[MEMBER]), secretary=str(found[SECRETARY]))


def _users(people: People) -> dict[str, KeycloakUser]:
    """The realm's users: demo members of Yen Mo (one its admin), two province admins, an
    auditor, one without a role."""
    users = [
        KeycloakUser("member", ("member",), {"tenant": TENANT, "member_id": people.member}),
        KeycloakUser(
            "secretary", ("branch_secretary",), {"tenant": TENANT, "member_id": people.secretary}
        ),
        # Yen Mo's admin is its secretary, with no name in the realm (named from the directory)
        KeycloakUser(
            "district-admin", ("tenant_admin",), {"tenant": TENANT, "member_id": people.secretary}
        ),
        KeycloakUser("province-admin", ("province_admin",), {"province": PROVINCE}),
        KeycloakUser("second-admin", ("province_admin",), {"province": PROVINCE}),
        KeycloakUser("auditor", ("auditor",), {"province": PROVINCE}),
        KeycloakUser("nobody", (), {"tenant": TENANT}),  # Keycloak's default roles only
    ]
    return {user.username: user for user in users}


@pytest.fixture(scope="package")
def realm(people: People) -> Iterator[KeycloakRealm]:
    with running_keycloak(users=_users(people)) as realm:
        yield realm


@pytest.fixture(scope="package")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="package")
def profile(
    production_database: databases.TestDatabase,
    realm: KeycloakRealm,
    receiver: OtlpReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Profile]:
    """``pilotgraph serve --workers 2`` with the production profile, ready."""
    _flush_redis()
    port, metrics_port = free_port(), free_port()
    env = _profile_env(production_database, realm, receiver.base_url, metrics_port)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGRAPH_")}
    inherited.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path_factory.mktemp("production") / "gateway.log"
    command = [
        str(CLI),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env={**inherited, **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers are stopped with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield Profile(url, f"http://127.0.0.1:{metrics_port}", realm, receiver, env, log)
    finally:
        _stop(process)


@pytest.fixture
async def client(profile: Profile) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=profile.url, timeout=30) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
