"""Planned trusted documents against the same documents on the schema, on one build.

Run: ``.venv/bin/python bench/planned_paths.py [--duration S] [--concurrency N]``

Creates a fresh PostgreSQL database, migrates it, creates the application role and loads the
demo province as that role; serves two gateways (uvicorn, one worker each) on it, one with
``PILOTGRAPH_PLANNED_OPERATIONS=true`` and one with ``false``, and drives each with the handbook
app's own ``Home`` and ``Documents`` documents as a member and its ``Members`` list (50 members
with ``totalCount``) as a tenant admin, N concurrent clients, in alternating
blocks so that load from other processes falls on both alike. Both answers are checked equal
before the load, and every answer under load must be 200 without errors. Prints req/s, p50, p99
and the CPU per request of the server and of its PostgreSQL backends. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BIN,
    HOST,
    BenchError,
    CpuProbe,
    Load,
    Result,
    Scenario,
    Server,
    Side,
    clean_env,
    create_database,
    drop_database,
    format_table,
    free_port,
    fresh_db_name,
    machine_summary,
    make_client,
    measure,
    pg_url,
    run_cli,
    start_server,
    stop_server,
    wait_ready,
)

APP_ROLE = "pilotgraph_app"
DOCUMENTS = (
    Path(__file__).resolve().parent.parent / "clients" / "trusted-documents" / "handbook-app"
)
# Each document, its variables and the role whose token sends it.
QUERIES = {
    "Home": ({}, "member"),
    "Documents": ({"first": 20}, "member"),
    "Members": ({"first": 50}, "tenant_admin"),
}


def app_env(database: str, planned: bool) -> dict[str, str]:
    return clean_env(
        {
            "PILOTGRAPH_DATABASE_URL": pg_url(database, APP_ROLE),
            "PILOTGRAPH_ENVIRONMENT": "development",
            "PILOTGRAPH_LOG_LEVEL": "warning",
            "PILOTGRAPH_METRICS_PORT": "0",  # other gateways may run on this machine
            "PILOTGRAPH_PLANNED_OPERATIONS": "true" if planned else "false",
        }
    )


async def prepare(database: str) -> dict[str, str]:
    """Migrate, create the app role, load the demo; a Yen Mo token per role the bench sends."""
    admin = clean_env({"PILOTGRAPH_DATABASE_URL": pg_url(database, "postgres")})
    await run_cli(["db", "upgrade"], admin, timeout_s=300)
    await run_cli(["db", "create-app-role", "--name", APP_ROLE], admin, timeout_s=60)
    await run_cli(["demo", "load"], app_env(database, True), timeout_s=900)
    tokens = {}
    for role in sorted({role for _, role in QUERIES.values()}):
        args = ["token", "--tenant", "yen-mo", "--role", role]
        printed = await run_cli(args, app_env(database, True), timeout_s=60)
        tokens[role] = printed.splitlines()[-1].strip()
    return tokens


def headers_for(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def start(database: str, planned: bool, log_dir: Path) -> Server:
    port = free_port()
    argv = [str(BIN / "pilotgraph"), "serve", "--host", HOST, "--port", str(port)]
    name = "planned" if planned else "generic"
    return start_server(name, argv, app_env(database, planned), log_dir, port)


def check(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    payload = response.json()
    return f"errors: {payload['errors']}"[:200] if payload.get("errors") else None


async def same_answers(
    servers: list[Server], bodies: dict[str, bytes], tokens: dict[str, str]
) -> None:
    async with make_client(1) as client:
        for name, body in bodies.items():
            headers = headers_for(tokens[QUERIES[name][1]])
            answers = [
                (await client.post(f"{s.base_url}/graphql", content=body, headers=headers)).json()
                for s in servers
            ]
            if answers[0] != answers[1] or "errors" in answers[0]:
                raise BenchError(f"{name}: the planned and generic answers differ: {answers}")
            print(f"{name}: answers equal, {len(json.dumps(answers[0]))} bytes")


async def run(database: str, args: argparse.Namespace, log_dir: Path) -> list[Result]:
    tokens = await prepare(database)
    bodies = {
        name: json.dumps(
            {"query": (DOCUMENTS / f"{name}.graphql").read_text(), "variables": variables}
        ).encode()
        for name, (variables, _) in QUERIES.items()
    }
    load = Load(args.concurrency, args.warmup, args.duration, args.block)
    with ExitStack() as stack:
        servers = [start(database, planned, log_dir) for planned in (True, False)]
        for server in servers:
            stack.callback(stop_server, server)
            await wait_ready(server, "/readyz")
        await same_answers(servers, bodies, tokens)
        results: list[Result] = []
        async with make_client(args.concurrency) as a, make_client(args.concurrency) as b:
            for name, body in bodies.items():
                headers = headers_for(tokens[QUERIES[name][1]])
                sides = [
                    Side(
                        s.name,
                        Scenario(name, f"{s.base_url}/graphql", body, headers, check),
                        CpuProbe(s.process.pid, database),
                        client,
                    )
                    for s, client in zip(servers, (a, b), strict=True)
                ]
                results += await measure(sides, load)
    return results


def report(results: list[Result]) -> str:
    header = [
        "document",
        "path",
        "req/s",
        "p50 ms",
        "p99 ms",
        "server CPU ms/req",
        "PostgreSQL CPU ms/req",
        "other load %",
        "failures",
    ]
    rows = [
        [
            r.name,
            r.server,
            f"{r.rps:.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.server_cpu_ms:.2f}",
            f"{r.database_cpu_ms:.2f}",
            f"{r.other_cpu_pct:.0f}",
            str(sum(r.failures.values())),
        ]
        for r in results
    ]
    return format_table(header, rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--block", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print(await machine_summary())
    database = fresh_db_name("bench_planned")
    await create_database(database)
    try:
        with tempfile.TemporaryDirectory() as log_dir:
            results = await run(database, args, Path(log_dir))
    finally:
        await drop_database(database)
    print(report(results))
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
