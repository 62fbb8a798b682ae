"""Handbook queries under load: the gateway against a bare Starlette app answering the same bytes.

Run: ``.venv/bin/python bench/handbook_query.py [--duration S] [--concurrency N] [--keep-db]``

Creates a fresh PostgreSQL database on 127.0.0.1, migrates it, creates the application role,
loads the demo province and serves the gateway (uvicorn, one worker). Two queries are measured:
a member's home screen and a list of 50 members. Their real answers are recorded, and a bare
Starlette app (uvicorn, one worker) is served that answers each with the very same bytes,
re-encoded per request. N concurrent clients then drive the gateway and the bare app in turn,
in blocks of a few seconds, so that load from other processes falls on both alike; requests/s,
p50, p99, the ratio gateway / bare and the CPU spent per request are printed. Every GraphQL
answer must be 200 without errors, and every bare answer identical to the gateway's: any
failure makes the exit status 1. Servers are stopped and the database dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BARE_PAYLOADS_ENV,
    BIN,
    HOST,
    OTHER_LOAD_LIMIT_PCT,
    BarePayload,
    BenchError,
    Check,
    CpuProbe,
    Load,
    Result,
    Scenario,
    Server,
    Side,
    bare_server_argv,
    cancel_on_signals,
    clean_env,
    create_database,
    drop_database,
    format_table,
    free_port,
    fresh_db_name,
    machine_summary,
    make_client,
    measure_undisturbed,
    pg_url,
    python_speed_ms,
    run_cli,
    start_server,
    stop_server,
    wait_ready,
    write_bare_payloads,
)

APP_ROLE = "pilotgraph_app"
HOME_QUERY = """{
  me { fullName position branch { name } }
  meetings(when: UPCOMING, first: 5) { title startsAt place }
  notices(first: 5) { title kind publishedAt }
}"""
MEMBERS_QUERY = """query Members($first: Int!) {
  members(first: $first) {
    totalCount
    edges { node { fullName birthYear position status } }
  }
}"""
LIST_SIZE = 50


@dataclass(frozen=True)
class Query:
    """One GraphQL request of the bench, and the role whose token sends it."""

    name: str
    role: str
    query: str
    variables: Mapping[str, Any]

    def body(self) -> bytes:
        return json.dumps({"query": self.query, "variables": dict(self.variables)}).encode()


QUERIES = (
    Query("member home", "member", HOME_QUERY, {}),
    Query(f"list of {LIST_SIZE} members", "tenant_admin", MEMBERS_QUERY, {"first": LIST_SIZE}),
)


@dataclass(frozen=True)
class Probed:
    """A query's real answer, measured once before the load."""

    query: Query
    token: str
    body: bytes
    content_type: str

    @property
    def size(self) -> int:
        return len(self.body)


# --- checks ---------------------------------------------------------------------------------


def graphql_problem(response: httpx.Response) -> str | None:
    """None for a 200 answer with data and no errors, else what is wrong."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    try:
        payload = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]}"
    if payload.get("errors"):
        return f"errors: {json.dumps(payload['errors'])[:200]}"
    if payload.get("data") is None:
        return "no data"
    return None


def bare_check(body: bytes) -> Check:
    """The bare app must answer exactly the gateway's bytes."""

    def check(response: httpx.Response) -> str | None:
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        if response.content != body:
            return f"answer differs from the gateway's ({len(response.content)}/{len(body)} B)"
        return None

    return check


def shape_problem(query: Query, payload: dict[str, Any]) -> str | None:
    """The probe must answer something worth measuring: a member, and a full page."""
    data = payload["data"]
    if query.role == "member" and data.get("me") is None:
        return "me is null: the token does not name a member"
    if query.role == "tenant_admin" and len(data["members"]["edges"]) != LIST_SIZE:
        return f"members page has {len(data['members']['edges'])} edges, not {LIST_SIZE}"
    return None


# --- set-up ---------------------------------------------------------------------------------


async def prepare_database(database: str) -> None:
    """Migrate as the superuser, create the app role, load the demo as the app role."""
    admin_env = clean_env({"PILOTGRAPH_DATABASE_URL": pg_url(database, "postgres")})
    await run_cli(["db", "upgrade"], admin_env, timeout_s=300)
    await run_cli(["db", "create-app-role", "--name", APP_ROLE], admin_env, timeout_s=60)
    started = time.monotonic()
    await run_cli(["demo", "load"], {**app_env(database), **LOAD_TIMEOUTS}, timeout_s=900)
    print(f"demo loaded in {time.monotonic() - started:.1f} s")


# The demo load's bulk inserts take longer than a request may: on a busy machine one ran past the
# served defaults (10 s statement, 15 s client) and the load failed.
LOAD_TIMEOUTS = {
    "PILOTGRAPH_DATABASE_STATEMENT_TIMEOUT_MS": "600000",
    "PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S": "660",
}


def app_env(database: str) -> dict[str, str]:
    return clean_env(
        {
            "PILOTGRAPH_DATABASE_URL": pg_url(database, APP_ROLE),
            "PILOTGRAPH_ENVIRONMENT": "development",
            "PILOTGRAPH_LOG_LEVEL": "warning",  # no access log line per request
        }
    )


async def issue_token(database: str, tenant: str, role: str) -> str:
    args = ["token", "--tenant", tenant, "--role", role]
    return (await run_cli(args, app_env(database), timeout_s=60)).splitlines()[-1].strip()


def start_gateway(database: str, log_dir: Path) -> Server:
    port = free_port()
    argv = [str(BIN / "pilotgraph"), "serve", "--host", HOST, "--port", str(port)]
    return start_server("gateway", argv, app_env(database), log_dir, port)


def start_bare(probed: list[Probed], log_dir: Path) -> Server:
    path = log_dir / "bare-payloads.json"
    payloads = [BarePayload(route(p.query), p.body, p.content_type) for p in probed]
    for name, encoder in write_bare_payloads(path, payloads).items():
        print(f"  /{name}: answers with json.dumps {encoder}")
    port = free_port()
    env = clean_env({BARE_PAYLOADS_ENV: str(path)})
    return start_server("bare", bare_server_argv(port), env, log_dir, port)


def route(query: Query) -> str:
    return query.name.replace(" ", "-")


# --- the runs -------------------------------------------------------------------------------


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def probe(client: httpx.AsyncClient, url: str, query: Query, token: str) -> Probed:
    response = await client.post(url, content=query.body(), headers=headers(token))
    problem = graphql_problem(response)
    payload = response.json() if problem is None else {}
    problem = problem or shape_problem(query, payload)
    if problem is not None:
        raise BenchError(f"{query.name}: {problem}")
    content_type = response.headers.get("content-type", "application/json")
    return Probed(query, token, response.content, content_type)


async def probe_all(gateway: Server, tokens: Mapping[str, str]) -> list[Probed]:
    async with make_client(1) as client:
        url = f"{gateway.base_url}/graphql"
        probed = [await probe(client, url, q, tokens[q.role]) for q in QUERIES]
    for p in probed:
        print(f"{p.query.name}: {p.size} bytes per answer")
    return probed


def sides(
    p: Probed, gateway: Server, bare: Server, database: str, clients: Sequence[httpx.AsyncClient]
) -> list[Side]:
    """The gateway and the bare app, each sent the query ``p`` on its own connection pool."""
    body, sent = p.query.body(), headers(p.token)
    gateway_url, bare_url = f"{gateway.base_url}/graphql", f"{bare.base_url}/{route(p.query)}"
    return [
        Side(
            "gateway",
            Scenario(p.query.name, gateway_url, body, sent, graphql_problem),
            CpuProbe(gateway.process.pid, database),
            clients[0],
        ),
        Side(
            "bare",
            Scenario(p.query.name, bare_url, body, sent, bare_check(p.body)),
            CpuProbe(bare.process.pid),
            clients[1],
        ),
    ]


def show_attempt(results: list[Result]) -> None:
    for r in results:
        print(
            f"  {r.name}, {r.server}: {r.requests} requests, {r.rps:.0f}/s,"
            f" other processes {r.other_cpu_pct:.0f}% of a core"
        )


async def run_queries(
    probed: list[Probed], gateway: Server, bare: Server, database: str, args: argparse.Namespace
) -> list[list[Result]]:
    """Per query: [gateway result, bare result], measured in alternating blocks."""
    load = Load(args.concurrency, args.warmup, args.duration, args.block)
    async with (
        make_client(args.concurrency) as to_gateway,
        make_client(args.concurrency) as to_bare,
    ):
        results = []
        for p in probed:
            pair = sides(p, gateway, bare, database, [to_gateway, to_bare])
            results.append(
                await measure_undisturbed(
                    pair, load, attempts=args.attempts, on_attempt=show_attempt
                )
            )
        return results


# --- report ---------------------------------------------------------------------------------


def report(probed: list[Probed], results: list[list[Result]]) -> str:
    """Throughput and latency side by side, then where the CPU went."""
    header = [
        "query",
        "bytes",
        "gateway req/s",
        "p50 ms",
        "p99 ms",
        "bare req/s",
        "p50 ms",
        "p99 ms",
        "req/s gateway/bare",
    ]
    rows = [
        [
            p.query.name,
            str(p.size),
            f"{g.rps:.0f}",
            f"{g.p50_ms:.1f}",
            f"{g.p99_ms:.1f}",
            f"{b.rps:.0f}",
            f"{b.p50_ms:.2f}",
            f"{b.p99_ms:.2f}",
            f"{g.rps / b.rps:.3f}",
        ]
        for p, (g, b) in zip(probed, results, strict=True)
    ]
    cpu_header = [
        "query (CPU ms per request)",
        "gateway",
        "bare",
        "server ratio",
        "PostgreSQL",
        "client (to gateway)",
        "client (to bare)",
        "other load % (gateway/bare blocks)",
    ]
    cpu_rows = [
        [
            g.name,
            f"{g.server_cpu_ms:.2f}",
            f"{b.server_cpu_ms:.2f}",
            f"{g.server_cpu_ms / b.server_cpu_ms:.0f}x" if b.server_cpu_ms else "n/a",
            f"{g.database_cpu_ms:.2f}",
            f"{g.client_cpu_ms:.2f}",
            f"{b.client_cpu_ms:.2f}",
            f"{g.other_cpu_pct:.0f} / {b.other_cpu_pct:.0f}",
        ]
        for g, b in results
    ]
    return "\n\n".join([format_table(header, rows), format_table(cpu_header, cpu_rows)])


def busy_warning(results: list[Result]) -> str | None:
    """A warning when other processes used the CPUs meanwhile: then the figures are low."""
    busy = [r for r in results if r.other_cpu_pct > OTHER_LOAD_LIMIT_PCT]
    if not busy:
        return None
    worst = max(r.other_cpu_pct for r in busy)
    return f"WARNING: other processes used up to {worst:.0f}% of a core during the runs"


def failures_of(results: list[Result]) -> Counter[str]:
    total: Counter[str] = Counter()
    for result in results:
        label = f"{result.name} ({result.server})"
        total.update({f"{label}: {k}": v for k, v in result.failures.items()})
    return total


def print_failures(failures: Counter[str]) -> None:
    print(f"\nFAILED: {sum(failures.values())} bad answers", file=sys.stderr)
    for problem, count in failures.most_common(10):
        print(f"  {count:6d}  {problem}", file=sys.stderr)


# --- main -----------------------------------------------------------------------------------


async def bench(database: str, args: argparse.Namespace, log_dir: Path) -> int:
    await prepare_database(database)
    roles = sorted({q.role for q in QUERIES})
    tokens = {role: await issue_token(database, args.tenant, role) for role in roles}
    with ExitStack() as stack:
        gateway = start_gateway(database, log_dir)
        stack.callback(stop_server, gateway)
        await wait_ready(gateway, "/readyz")
        probed = await probe_all(gateway, tokens)
        bare = start_bare(probed, log_dir)
        stack.callback(stop_server, bare)
        await wait_ready(bare, "/readyz")
        print(
            f"{args.concurrency} clients per server, {args.warmup:g} s warm-up,"
            f" {args.duration:g} s each in blocks of {args.block:g} s, gateway and bare in turn"
        )
        speed_before = python_speed_ms()
        results = await run_queries(probed, gateway, bare, database, args)
        speed_after = python_speed_ms()
    print(
        f"CPU speed probe, sum(range(10**6)): {speed_before:.1f} ms before the runs,"
        f" {speed_after:.1f} ms after (lower is faster)"
    )
    return conclude(probed, results)


def conclude(probed: list[Probed], results: list[list[Result]]) -> int:
    flat = [r for pair in results for r in pair]
    print()
    print(report(probed, results))
    warning = busy_warning(flat)
    if warning:
        print(f"\n{warning}")
    failures = failures_of(flat)
    if failures:
        print_failures(failures)
        return 1
    graphql = sum(r.requests for r in flat if r.server == "gateway")
    print(f"\nall {graphql} GraphQL answers: 200, no errors; all bare answers identical")
    return 0


async def main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    if task is not None:
        cancel_on_signals(task)
    print(f"machine: {await machine_summary()}")
    database = fresh_db_name("pilotgraph_bench")
    await create_database(database)
    print(f"database {database}")
    try:
        with tempfile.TemporaryDirectory(prefix="pilotgraph-bench-") as log_dir:
            return await bench(database, args, Path(log_dir))
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep_db:
            print(f"kept database {database} ({pg_url(database, APP_ROLE)})")
        else:
            await drop_database(database)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds")
    parser.add_argument(
        "--block",
        type=float,
        default=2.0,
        help="seconds driven on one server before switching to the other",
    )
    parser.add_argument("--concurrency", type=int, default=10, help="concurrent clients")
    parser.add_argument("--tenant", default="yen-mo", help="demo tenant (slug)")
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="measure a scenario up to this many times while other processes load the CPUs",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    if not 0.2 <= args.block <= args.duration:
        parser.error("--block must be in [0.2, --duration]")
    if not 1 <= args.concurrency <= 256 or not 1 <= args.attempts <= 10:
        parser.error("--concurrency must be in [1, 256] and --attempts in [1, 10]")
    return args


def run(argv: list[str] | None = None) -> int:
    try:
        return asyncio.run(main(parse_args(argv)))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("interrupted; servers stopped, database dropped unless --keep-db", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run())
