"""Overload: a member's home screen under 50, 200 and 500 concurrent clients, two workers.

Run: ``.venv/bin/python bench/overload.py [--duration 20] [--warmup 2] [--levels 50,200,500]
[--workers 2] [--max-in-flight N] [--pool-size N] [--demo] [--ignore-retry-after] [--keep-db]``

Creates a fresh PostgreSQL database on 127.0.0.1, migrates it, creates the application role and
loads the hand-made test world (``--demo``: the demo province, a few minutes), then serves the
gateway with ``pilotgraph serve --workers N``. For each level, that many closed-loop clients,
each on its own kept-alive connection, send the handbook app's home query as a Yên Mô member for
``--duration`` seconds after ``--warmup`` seconds not counted (answers off target are counted
all the same); a client answered ``503 OVERLOADED`` waits the ``Retry-After`` it was given
(``--ignore-retry-after``: it does not), as the app does. Meanwhile ``/readyz`` is sampled every
0.25 s. Per level: answers per second, served (200 without errors) per second, p50 and p99 of the
served, the count of each status and code, the gateway's resident memory (every process of it)
before and after, and the ``/readyz`` statuses. The targets: no answer other than 200 or a coded
503 ``OVERLOADED``; ``/readyz`` 200 throughout; p99 of the served at most 1 s at 200 clients. Exit
status 1 when one is missed, 2 when set-up fails. The server is stopped and the database dropped
at the end (unless ``--keep-db``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BIN,
    HOST,
    BenchError,
    Server,
    cancel_on_signals,
    clean_env,
    create_database,
    drop_database,
    format_table,
    free_port,
    fresh_db_name,
    machine_summary,
    percentile,
    pg_url,
    run_cli,
    start_server,
    stop_server,
    wait_ready,
)
from bench.handbook_query import HOME_QUERY

APP_ROLE = "pilotgraph_app"
TENANT = "yen-mo"
READY_EVERY_S = 0.25
REQUEST_TIMEOUT_S = 30.0
SERVED_P99_TARGET_S = 1.0
TARGET_LEVEL = 200
EXPECTED = frozenset({"200", "503 OVERLOADED"})


@dataclass
class Level:
    """What one level of load got back."""

    clients: int
    answers: Counter[str] = field(default_factory=Counter)
    served_s: list[float] = field(default_factory=list)
    ready: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    client_cpu_pct: float = 0.0  # this process's CPU, in % of one core: the clients' own cost

    @property
    def unexpected(self) -> int:
        return sum(n for kind, n in self.answers.items() if kind not in EXPECTED)


# --- set-up ---------------------------------------------------------------------------------


def app_env(database: str, workers_env: dict[str, str]) -> dict[str, str]:
    return clean_env(
        {
            "PILOTGRAPH_DATABASE_URL": pg_url(database, APP_ROLE),
            "PILOTGRAPH_ENVIRONMENT": "development",
            "PILOTGRAPH_LOG_LEVEL": "warning",  # no access log line per request
            "PILOTGRAPH_METRICS_PORT": "0",
            **workers_env,
        }
    )


async def prepare(database: str, demo: bool) -> str:
    """Migrate, create the app role, load the world (or the demo); the member to sign in as."""
    admin_env = clean_env({"PILOTGRAPH_DATABASE_URL": pg_url(database, "postgres")})
    await run_cli(["db", "upgrade"], admin_env, timeout_s=300)
    await run_cli(["db", "create-app-role", "--name", APP_ROLE], admin_env, timeout_s=60)
    started = time.monotonic()
    if demo:
        await run_cli(["demo", "load"], app_env(database, {}), timeout_s=900)
        print(f"demo loaded in {time.monotonic() - started:.1f} s")
        return ""
    from db.engine import make_engine
    from db.sessions import make_sessionmaker
    from tests.world import YM_MEMBER_A, load_world

    engine = make_engine(pg_url(database, APP_ROLE))
    try:
        await load_world(make_sessionmaker(engine))
    finally:
        await engine.dispose()
    print(f"test world loaded in {time.monotonic() - started:.1f} s")
    return str(YM_MEMBER_A)


async def member_token(database: str, member: str) -> str:
    args = ["token", "--tenant", TENANT, "--role", "member"]
    if member:
        args += ["--member", member]
    return (await run_cli(args, app_env(database, {}), timeout_s=60)).splitlines()[-1].strip()


# --- memory ---------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (uvicorn's supervisor, workers)."""
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
        todo += _children(current)
    return total_kb / 1024


# --- load -----------------------------------------------------------------------------------


def classify(response: httpx.Response) -> str:
    """``200``, ``200 CODE`` (an error in a 200), or ``STATUS CODE`` (``-`` when uncoded)."""
    try:
        errors = response.json().get("errors") or []
        code = (errors[0].get("extensions") or {}).get("code", "-") if errors else None
    except (ValueError, AttributeError):
        code = "-"
    if response.status_code == 200 and code is None:
        return "200"
    return f"{response.status_code} {code or '-'}"


async def client_loop(
    client: httpx.AsyncClient, body: bytes, window: tuple[float, float], level: Level, honour: bool
) -> None:
    """Send the query until the window closes; answers count from its start (warm-up before
    it), except those that miss the targets, which count whenever they come."""
    measured_from, deadline = window
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            response = await client.post("/graphql", content=body)
        except httpx.HTTPError as exc:
            level.answers[f"no answer: {type(exc).__name__}"] += 1
            continue
        kind = classify(response)
        if started >= measured_from or kind not in EXPECTED:
            level.answers[kind] += 1
            if kind == "200":
                level.served_s.append(time.monotonic() - started)
        if honour and kind == "503 OVERLOADED":
            wait = float(response.headers.get("retry-after", "1"))
            await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))


async def sample_ready(base_url: str, stop: asyncio.Event, level: Level) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0, trust_env=False) as client:
        while not stop.is_set():
            try:
                level.ready[str((await client.get("/readyz")).status_code)] += 1
            except httpx.HTTPError as exc:
                level.ready[type(exc).__name__] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), READY_EVERY_S)


async def run_level(
    server: Server, token: str, clients: int, load: tuple[float, float], honour: bool
) -> Level:
    """``clients`` for ``load`` = (warm-up, measured) seconds."""
    warmup_s, duration_s = load
    level = Level(clients, rss_before_mb=tree_rss_mb(server.process.pid))
    body = json.dumps({"query": HOME_QUERY}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    stop = asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        # One client per connection, as each app is: one shared pool of hundreds of
        # connections costs httpx more than the requests do.
        pool = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=server.base_url,
                    headers=headers,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    timeout=REQUEST_TIMEOUT_S,
                    trust_env=False,
                )
            )
            for _ in range(clients)
        ]
        sampler = asyncio.create_task(sample_ready(server.base_url, stop, level))
        cpu_before = time.process_time()
        started = time.monotonic() + warmup_s
        window = (started, started + duration_s)
        await asyncio.gather(*(client_loop(c, body, window, level, honour) for c in pool))
        level.elapsed_s = time.monotonic() - started
        spent = time.process_time() - cpu_before
        level.client_cpu_pct = 100 * spent / (level.elapsed_s + warmup_s)
        stop.set()
        await sampler
    level.rss_after_mb = tree_rss_mb(server.process.pid)
    return level


# --- report ---------------------------------------------------------------------------------


def report(levels: list[Level]) -> str:
    header = [
        "clients",
        "answers/s",
        "served/s",
        "p50 ms",
        "p99 ms",
        "answers",
        "RSS MB before → after",
        "/readyz",
        "client CPU %",
    ]
    rows = []
    for level in levels:
        ordered = sorted(level.served_s)
        rows.append(
            [
                str(level.clients),
                f"{sum(level.answers.values()) / level.elapsed_s:.0f}",
                f"{len(ordered) / level.elapsed_s:.0f}",
                f"{percentile(ordered, 0.50) * 1000:.0f}",
                f"{percentile(ordered, 0.99) * 1000:.0f}",
                ", ".join(f"{k}: {n}" for k, n in level.answers.most_common()),
                f"{level.rss_before_mb:.0f} → {level.rss_after_mb:.0f}",
                ", ".join(f"{k}: {n}" for k, n in level.ready.most_common()),
                f"{level.client_cpu_pct:.0f}",
            ]
        )
    return format_table(header, rows)


def verdict(levels: list[Level]) -> list[str]:
    """The targets missed (none: all met)."""
    missed = []
    for level in levels:
        if level.unexpected:
            missed.append(f"{level.clients} clients: {level.unexpected} answers not 200/OVERLOADED")
        if set(level.ready) != {"200"}:
            missed.append(f"{level.clients} clients: /readyz answered {dict(level.ready)}")
        if level.clients == TARGET_LEVEL and level.served_s:
            p99 = percentile(sorted(level.served_s), 0.99)
            if p99 > SERVED_P99_TARGET_S:
                missed.append(f"{level.clients} clients: p99 of the served {p99 * 1000:.0f} ms")
    return missed


# --- main -----------------------------------------------------------------------------------


async def bench(database: str, args: argparse.Namespace, log_dir: Path) -> int:
    member = await prepare(database, args.demo)
    token = await member_token(database, member)
    port = free_port()
    argv = [str(BIN / "pilotgraph"), "serve", "--host", HOST, "--port", str(port)]
    argv += ["--workers", str(args.workers)]
    extra = {"PILOTGRAPH_MAX_IN_FLIGHT": str(args.max_in_flight)} if args.max_in_flight else {}
    if args.pool_size:
        extra["PILOTGRAPH_DATABASE_POOL_SIZE"] = str(args.pool_size)
    server = start_server("gateway", argv, app_env(database, extra), log_dir, port)
    try:
        await wait_ready(server, "/readyz")
        await asyncio.sleep(1.0)  # every worker has started
        levels = []
        for clients in args.levels:
            print(
                f"{clients} clients: {args.warmup:g} s warm-up, {args.duration:g} s …", flush=True
            )
            load = (args.warmup, args.duration)
            levels.append(
                await run_level(server, token, clients, load, not args.ignore_retry_after)
            )
    finally:
        stop_server(server)
    print()
    print(report(levels))
    missed = verdict(levels)
    for line in missed:
        print(f"MISSED: {line}", file=sys.stderr)
    if not missed:
        print("\nall targets met: only 200 and coded 503 OVERLOADED, /readyz 200 throughout")
    return 1 if missed else 0


async def main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    if task is not None:
        cancel_on_signals(task)
    print(f"machine: {await machine_summary()}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    database = fresh_db_name("pilotgraph_overload")
    await create_database(database)
    print(f"database {database}")
    try:
        with tempfile.TemporaryDirectory(prefix="pilotgraph-overload-") as log_dir:
            return await bench(database, args, Path(log_dir))
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2
    finally:
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not args.keep_db:
            await drop_database(database)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per level")
    parser.add_argument(
        "--levels",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[50, 200, 500],
        help="concurrent clients, comma-separated",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per level, not counted")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-in-flight", type=int, default=0, help="0: the gateway's default")
    parser.add_argument("--pool-size", type=int, default=0, help="0: the gateway's default")
    parser.add_argument("--demo", action="store_true", help="load the demo, not the test world")
    parser.add_argument("--ignore-retry-after", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(130)
