"""A private PostgreSQL cluster behind a cuttable proxy, and two gateway processes on it.

Everything is module-scoped and torn down by finalizers: the gateways' process groups are
killed, the proxy closed, the cluster stopped and its folder removed, whatever the test did.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from gateway.auth import issue_development_token
from gateway.settings import Environment, Settings
from tenants.handbook.models import Member
from tenants.types import Role
from tests import databases
from tests.conftest import IN_CI
from tests.faults.proxy import BlackholeProxy
from tests.pgcluster import PgCluster, binaries, free_port
from tests.rollout.plan_world import make_plan, notices_for_branch_a
from tests.world import PROVINCE, YEN_MO, YM_BRANCH_A, YM_BRANCH_B, load_world, uid

READY_TIMEOUT_S = 60.0
# Members added to Yen Mo, each asked about once at most: their branch is never cached.
FRESH_MEMBERS = [uid(100_000 + n) for n in range(2_000)]
SUMMARIES: list[str] = []  # printed at the end of the session, pass or fail
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Gateway:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass(frozen=True)
class Outage:
    """What the fault suite acts on and reads back."""

    cluster: PgCluster
    proxy: BlackholeProxy
    database: databases.TestDatabase  # direct URLs (not through the proxy), for the checks
    a: Gateway
    b: Gateway
    settings: Settings  # the gateways' signing settings, to issue tokens

    def token(self, role: Role, *, tenant: str | None = None, subject: str = "fault") -> str:
        province = PROVINCE if role is Role.PROVINCE_ADMIN else None
        return issue_development_token(
            self.settings, subject=subject, roles=[role], tenant=tenant, province=province
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    """A started private cluster (skipped outside CI when PostgreSQL is not installed)."""
    bin_dir = binaries()
    if bin_dir is None:
        if IN_CI:
            pytest.fail(
                "the fault suite needs PostgreSQL's initdb/pg_ctl (set PILOTGRAPH_TEST_PG_BIN)"
            )
        pytest.skip("PostgreSQL binaries not installed")
    cluster = PgCluster.create(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def proxy(cluster: PgCluster) -> Iterator[BlackholeProxy]:
    proxy = BlackholeProxy("127.0.0.1", cluster.port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(scope="module")
async def outage_database(cluster: PgCluster) -> databases.TestDatabase:
    """Migrated, with the app role, the hand-made world, a rollout plan and a branch rule."""
    db = await databases.create_postgres(server=cluster.server)
    engine = make_engine(db.app_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        await load_world(sessionmaker)
        async with sessionmaker() as session:
            await make_plan(session)
            await notices_for_branch_a(session)
            await session.commit()
        async with scope_session(sessionmaker(), YEN_MO) as session:
            session.add_all(_fresh_member(id_, n) for n, id_ in enumerate(FRESH_MEMBERS))
            await session.commit()
    finally:
        await engine.dispose()
    return db


def _fresh_member(id_: uuid.UUID, n: int) -> Member:
    return Member(
        tenant_id=YEN_MO,
        id=id_,
        branch_id=(YM_BRANCH_A, YM_BRANCH_B)[n % 2],
        full_name=f"Đảng viên {n}",
        birth_year=1985,
        joined_on=dt.date(2015, 3, 1),
        position="Đảng viên",
        status="official",
        is_religious_believer=False,
    )


def _start(name: str, database_url: str, directory: Path) -> Gateway:
    port = free_port()
    env = {
        **os.environ,
        "PILOTGRAPH_DATABASE_URL": database_url,
        "PILOTGRAPH_ENVIRONMENT": Environment.DEVELOPMENT.value,
        "PILOTGRAPH_METRICS_PORT": "0",
        "PILOTGRAPH_LOG_LEVEL": "warning",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = directory / f"gateway-{name}.log"
    command = [str(Path(sys.executable).with_name("pilotgraph")), "serve", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole at the end
        )
    return Gateway(name, f"http://127.0.0.1:{port}", process, log)


def _wait_ready(gateway: Gateway) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            pytest.fail(f"gateway {gateway.name} exited:\n{gateway.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{gateway.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"gateway {gateway.name} not ready:\n{gateway.log.read_text()[-3000:]}")


def _stop(gateway: Gateway) -> None:
    """SIGTERM the group, then SIGKILL whatever is left after a bounded wait."""
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(gateway.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            gateway.process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
async def outage(
    cluster: PgCluster,
    proxy: BlackholeProxy,
    outage_database: databases.TestDatabase,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Outage]:
    """Gateways A and B (``pilotgraph serve``) on the cluster, both through the proxy."""
    through_proxy = databases.PgServer("127.0.0.1", proxy.port).url(
        outage_database.name, databases.APP_ROLE
    )
    directory = tmp_path_factory.mktemp("outage")
    gateways: list[Gateway] = []
    try:
        for name in ("A", "B"):
            gateways.append(_start(name, through_proxy, directory))
        for gateway in gateways:
            _wait_ready(gateway)
        settings = Settings(
            database_url=SecretStr(through_proxy), environment=Environment.DEVELOPMENT
        )
        yield Outage(cluster, proxy, outage_database, gateways[0], gateways[1], settings)
    finally:
        for gateway in gateways:
            _stop(gateway)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for summary in SUMMARIES:
        terminalreporter.write_line(summary)
