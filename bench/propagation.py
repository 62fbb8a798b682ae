"""Flag propagation between two gateway processes on PostgreSQL: time until a change is visible.

Run: ``.venv/bin/python bench/propagation.py [--changes N]``

Creates a throw-away database, migrates it, starts gateways A and B (``pilotgraph serve``) on it,
then N times: a province admin toggles ``handbook.meetings`` (killed ↔ active) through A's
GraphQL; as soon as A answers (the change is committed and ``NOTIFY`` sent), the bench polls
B's OFREP endpoint until B serves the new value. Prints p50/p99/max of that delay, and as the
same-run baseline the round trip of one OFREP poll to B (the resolution of the measurement).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BIN,
    HOST,
    clean_env,
    create_database,
    drop_database,
    free_port,
    fresh_db_name,
    percentile,
    pg_url,
    start_server,
    stop_server,
    wait_ready,
)
from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway import migrate
from gateway.auth import issue_development_token
from gateway.roles import create_app_role
from gateway.settings import Settings
from tenants.models import Province, Tenant
from tenants.types import Role

APP_ROLE = "pilotgraph_app"
KEY = "handbook.meetings"
KILL = """
mutation($state: FlagStateInput!, $version: Int!) {
  setFlagState(flag: "handbook.meetings", state: $state, expectedVersion: $version,
               reason: "bench") { version errors { code message } }
}
"""


async def _prepare(name: str) -> str:
    admin_url, app_url = pg_url(name, "postgres"), pg_url(name, APP_ROLE)
    await asyncio.to_thread(migrate.upgrade, admin_url)
    await create_app_role(admin_url, name=APP_ROLE, password=None)
    engine = make_engine(admin_url)
    async with make_sessionmaker(engine)() as session:
        session.add(Province(id="ninh-binh", name="Ninh Bình", timezone="Asia/Ho_Chi_Minh"))
        await session.flush()
        session.add(Tenant(id="yen-mo", province_id="ninh-binh", name="Yên Mô", kind="district"))
        await session.commit()
    await engine.dispose()
    return app_url


async def _visible_on_b(b: httpx.AsyncClient, expected: bool) -> None:
    while True:
        response = await b.post(f"/ofrep/v1/evaluate/flags/{KEY}", json={"context": {}})
        if response.json()["value"] is expected:
            return


async def run(changes: int) -> None:
    name = fresh_db_name("pilotgraph_propagation")
    await create_database(name)
    servers = []
    try:
        app_url = await _prepare(name)
        env = clean_env({"PILOTGRAPH_DATABASE_URL": app_url, "PILOTGRAPH_LOG_LEVEL": "warning"})
        logs = Path(tempfile.mkdtemp(prefix="pilotgraph-propagation-"))
        for label in ("A", "B"):
            port = free_port()
            argv = [str(BIN / "pilotgraph"), "serve", "--host", HOST, "--port", str(port)]
            servers.append(start_server(label, argv, env, logs, port))
        for server in servers:
            await wait_ready(server, "/healthz")
        settings = Settings(database_url=SecretStr(app_url))
        admin = issue_development_token(
            settings,
            subject="bench-admin",
            roles=[Role.PROVINCE_ADMIN],
            tenant=None,
            province="ninh-binh",
        )
        member = issue_development_token(
            settings, subject="bench-member", roles=[Role.MEMBER], tenant="yen-mo"
        )
        await _measure(servers[0].base_url, servers[1].base_url, admin, member, changes)
    finally:
        for server in servers:
            stop_server(server)
        await drop_database(name)


async def _measure(a_url: str, b_url: str, admin: str, member: str, changes: int) -> None:
    async with (
        httpx.AsyncClient(base_url=a_url, headers={"Authorization": f"Bearer {admin}"}) as a,
        httpx.AsyncClient(base_url=b_url, headers={"Authorization": f"Bearer {member}"}) as b,
    ):
        await _visible_on_b(b, True)  # warm both connections
        rtts = []
        for _ in range(50):
            start = time.perf_counter()
            await b.post(f"/ofrep/v1/evaluate/flags/{KEY}", json={"context": {}})
            rtts.append(time.perf_counter() - start)
        delays, version = [], 0
        for n in range(changes):
            state = "KILLED" if n % 2 == 0 else "ACTIVE"
            response = await a.post(
                "/graphql",
                json={"query": KILL, "variables": {"state": state, "version": version or 1}},
            )
            payload = response.json()["data"]["setFlagState"]
            if payload["errors"]:
                raise RuntimeError(payload["errors"])
            version = payload["version"]
            committed = time.perf_counter()
            await asyncio.wait_for(_visible_on_b(b, state == "ACTIVE"), timeout=35)
            delays.append(time.perf_counter() - committed)
    delays.sort()
    rtts.sort()
    ms = 1000
    print(f"{changes} changes through gateway A, visible on gateway B (PostgreSQL LISTEN/NOTIFY)")
    print(
        f"  delay until visible: p50 {percentile(delays, 0.5) * ms:.1f} ms, "
        f"p99 {percentile(delays, 0.99) * ms:.1f} ms, max {delays[-1] * ms:.1f} ms, "
        f"mean {statistics.mean(delays) * ms:.1f} ms"
    )
    print(
        f"  baseline, one OFREP poll round trip to B: p50 {percentile(rtts, 0.5) * ms:.1f} ms, "
        f"p99 {percentile(rtts, 0.99) * ms:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.changes))


if __name__ == "__main__":
    main()
