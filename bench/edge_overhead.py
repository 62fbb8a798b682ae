"""The edge's cost: a member's home query with every protection on vs off, in one run.

Run: ``.venv/bin/python bench/edge_overhead.py [--rounds R] [--block B] [--sqlite]``

Creates a fresh database (PostgreSQL on 127.0.0.1 unless ``--sqlite``), migrates it, loads the
test world (Yen Mo and Kim Son), and builds two apps over the same engine in this process:

* **on**: the gateway as served — security headers, CORS, body limit, tenancy, rate limits
  (in-process buckets, on), GraphQL-over-HTTP negotiation, CSRF check, persisted operations (APQ),
  token/depth/alias/root-field/cost limits and the introspection policy;
* **off**: the same route with strawberry's stock HTTP handling and only the access log and
  tenancy middleware (which every request needs) — no edge middleware, no limits.

Requests go through httpx's ASGI transport one at a time, alternating blocks of ``B`` requests
between the apps for ``R`` rounds so machine noise (2 shared cores) hits both alike. Prints the
median and p90 latency per request of each, the process's CPU time per request (steadier than
latency on a shared machine), and the overhead of "on" relative to "off".
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from strawberry.asgi import GraphQL

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.app import build_state, create_app
from gateway.auth import issue_development_token
from gateway.edge.config import EdgeSettings, PersistedMode
from gateway.edge.documents import Edge
from gateway.edge.ratelimit import RateGate
from gateway.observability.access import AccessMiddleware
from gateway.observability.logs import configure_logging
from gateway.settings import Settings
from gateway.state import GatewayState
from gateway.tenancy import TenancyMiddleware
from gateway.view import GraphQLView, SessionCloser
from schema.root import schema
from tenants.types import Role
from tests import databases
from tests.world import YEN_MO, YM_MEMBER_A, load_world

HOME_QUERY = """{
  me { fullName position branch { name } }
  meetings(when: UPCOMING, first: 5) { title startsAt place }
  notices(first: 5) { title kind publishedAt }
}"""
ORIGIN = "https://handbook.ninhbinh.example"


class StockView(GraphQLView):
    """Strawberry's own HTTP handling, with PilotGraph's context: the edge turned off."""

    __call__ = GraphQL.__call__  # type: ignore[assignment]


def protections_off(state: GatewayState) -> Starlette:
    edge = Edge(schema, state.settings, RateGate(state.settings))  # built, never called
    view = StockView(schema, edge, graphql_ide=None)
    app = Starlette(
        routes=[Route("/graphql", view, methods=["GET", "POST"])],
        middleware=[
            Middleware(AccessMiddleware),
            Middleware(TenancyMiddleware, state=state),
            Middleware(SessionCloser),
        ],
    )
    app.state.pilotgraph = state
    return app


def protections_on(state: GatewayState) -> Starlette:
    edge = EdgeSettings(
        rate_limits_enabled=True,
        cors_origins=(ORIGIN,),
        persisted=PersistedMode.APQ,
    )
    settings = state.settings.model_copy(update={"edge": edge})
    return create_app(settings, state=dataclasses.replace(state, settings=settings))


async def timed_block(
    client: httpx.AsyncClient, body: dict[str, object], n: int
) -> tuple[list[float], float]:
    """Wall time of each of ``n`` requests, and the process's CPU time per request."""
    samples = []
    cpu_started = time.process_time()
    for _ in range(n):
        started = time.perf_counter()
        response = await client.post("/graphql", json=body)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:300]}")
    return samples, (time.process_time() - cpu_started) / n


async def run(rounds: int, block: int, sqlite: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if sqlite:
            db = await databases.create_sqlite(Path(tmp))
        else:
            db = await databases.create_postgres()
        engine = make_engine(db.app_url)
        try:
            await load_world(make_sessionmaker(engine))
            settings = Settings(database_url=SecretStr(db.app_url))
            state = build_state(settings, sessionmaker=make_sessionmaker(engine))
            state.engine = engine
            await state.registry.reload(state.sessionmaker)
            token = issue_development_token(
                settings, subject=str(YM_MEMBER_A), roles=[Role.MEMBER], tenant=YEN_MO
            )
            headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
            body = {"query": HOME_QUERY}
            apps = {"off": protections_off(state), "on": protections_on(state)}
            clients = {
                name: httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers
                )
                for name, app in apps.items()
            }
            samples: dict[str, list[float]] = {"off": [], "on": []}
            cpu: dict[str, list[float]] = {"off": [], "on": []}
            for client in clients.values():  # warm caches and pools
                await timed_block(client, body, 50)
            for _ in range(rounds):
                for name, client in clients.items():
                    wall, cpu_per_request = await timed_block(client, body, block)
                    samples[name] += wall
                    cpu[name].append(cpu_per_request)
            for client in clients.values():
                await client.aclose()
        finally:
            await engine.dispose()
            if db.backend == "postgresql":
                await databases.drop_postgres(db)
    report(samples, cpu, db.backend, rounds * block)


def report(
    samples: dict[str, list[float]], cpu: dict[str, list[float]], backend: str, n: int
) -> None:
    def ms(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    print(f"member home query, {backend}, {n} requests per side, in-process (httpx ASGI)")
    print(f"{'protections':<12} {'median ms':>10} {'p90 ms':>8} {'mean ms':>8} {'CPU ms/req':>11}")
    for name in ("off", "on"):
        mean = 1000 * statistics.fmean(samples[name])
        cpu_ms = 1000 * statistics.median(cpu[name])
        print(
            f"{name:<12} {ms(samples[name], 0.5):>10.3f} {ms(samples[name], 0.9):>8.3f} "
            f"{mean:>8.3f} {cpu_ms:>11.3f}"
        )
    wall = ms(samples["on"], 0.5) / ms(samples["off"], 0.5) - 1
    cpu_overhead = statistics.median(cpu["on"]) / statistics.median(cpu["off"]) - 1
    print(
        f"overhead, median latency: {wall * 100:+.1f}%; CPU per request: "
        f"{cpu_overhead * 100:+.1f}% (target <= 10%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--block", type=int, default=25)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    configure_logging(json=True, level="warning")  # access lines would dominate the timings
    asyncio.run(run(args.rounds, args.block, args.sqlite))


if __name__ == "__main__":
    main()
