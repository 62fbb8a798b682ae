"""Shared bench helpers.

A throw-away PostgreSQL database, servers run as subprocesses on 127.0.0.1, a closed-loop load
driver (N asyncio clients over one httpx pool, bounded by a deadline), CPU accounting read from
``/proc``, and the bare Starlette app used as a baseline (``bare_app``, served by uvicorn).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PG_PORT = 5432
PG_SUPERUSER = "postgres"
BARE_PAYLOADS_ENV = "PILOTGRAPH_BENCH_BARE_PAYLOADS"
DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT_S = 10.0
OTHER_LOAD_LIMIT_PCT = 10.0  # other processes' CPU, in % of one core, above which we re-measure

Check = Callable[[httpx.Response], str | None]


class BenchError(RuntimeError):
    """The bench could not set up or run what it measures."""


# --- database -------------------------------------------------------------------------------


def fresh_db_name(prefix: str) -> str:
    """A database name nobody else uses: prefix, time, random suffix."""
    name = f"{prefix}_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}"
    if not DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}")
    return name


def pg_url(database: str, user: str) -> str:
    """The SQLAlchemy URL of ``database`` on the local server, as ``user`` (trust auth)."""
    return f"postgresql+asyncpg://{user}@{HOST}:{PG_PORT}/{database}"


async def _admin_execute(sql: str) -> None:
    conn = await asyncpg.connect(
        host=HOST, port=PG_PORT, user=PG_SUPERUSER, database="postgres", timeout=5
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_database(name: str) -> None:
    if not DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}")
    await _admin_execute(f'CREATE DATABASE "{name}"')


async def drop_database(name: str) -> None:
    if not DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}")
    await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def postgres_version() -> str:
    conn = await asyncpg.connect(
        host=HOST, port=PG_PORT, user=PG_SUPERUSER, database="postgres", timeout=5
    )
    try:
        version: str = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return version


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def python_speed_ms(rounds: int = 5) -> float:
    """Best of ``rounds`` timings of ``sum(range(10**6))``: a probe of how fast this vCPU runs
    right now (shared machines slow down without showing load in ``/proc``)."""
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        sum(range(10**6))
        best = min(best, time.perf_counter() - start)
    return best * 1000.0


async def machine_summary() -> str:
    """One line naming what the figures were measured on."""
    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL {await postgres_version()}"
    )


async def backend_pids(database: str) -> list[int]:
    """PIDs of the PostgreSQL backends currently connected to ``database``."""
    conn = await asyncpg.connect(
        host=HOST, port=PG_PORT, user=PG_SUPERUSER, database="postgres", timeout=5
    )
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    return [int(row["pid"]) for row in rows]


# --- subprocesses ---------------------------------------------------------------------------


def clean_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without any PilotGraph settings, plus ``overrides``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PILOTGRAPH_") and key != "DATABASE_URL"
    }
    env.update(overrides)
    return env


async def run_cli(args: Sequence[str], env: Mapping[str, str], timeout_s: float) -> str:
    """Run ``pilotgraph ARGS``; its stdout, or :class:`BenchError` with its stderr.

    Killed if it outlives ``timeout_s`` or if the bench is interrupted meanwhile."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / "pilotgraph"),
        *args,
        cwd=REPO_ROOT,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await process.communicate()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        tail = (err or out).decode(errors="replace").strip()[-2000:]
        raise BenchError(f"pilotgraph {' '.join(args)} exited {process.returncode}:\n{tail}")
    return out.decode().strip()


def cancel_on_signals(task: asyncio.Task[Any]) -> None:
    """SIGINT or SIGTERM cancel ``task``, so that its ``finally`` blocks clean up."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def start_server(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path, port: int
) -> Server:
    """Start ``argv`` with stdout and stderr going to ``log_dir/name.log``."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(argv), cwd=REPO_ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    return Server(name=name, port=port, process=process, log=log)


async def wait_ready(server: Server, path: str, timeout_s: float = 60.0) -> None:
    """Poll ``path`` until it answers 200; fail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0, trust_env=False) as c:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchError(f"{server.name} exited early:\n{server.log_tail()}")
            try:
                if (await c.get(path)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise BenchError(f"{server.name} not ready after {timeout_s:.0f} s:\n{server.log_tail()}")


def stop_server(server: Server, timeout_s: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it does not exit in time (this process's child only)."""
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


# --- CPU accounting -------------------------------------------------------------------------


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def processes_cpu_s(pids: Sequence[int]) -> float:
    return sum(process_cpu_s(pid) for pid in pids)


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy, all cores (``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds: a reading, or the difference of two."""

    server_s: float = 0.0
    database_s: float = 0.0
    client_s: float = 0.0
    machine_s: float = 0.0

    def __add__(self, other: CpuSnapshot) -> CpuSnapshot:
        return CpuSnapshot(
            self.server_s + other.server_s,
            self.database_s + other.database_s,
            self.client_s + other.client_s,
            self.machine_s + other.machine_s,
        )

    def __sub__(self, other: CpuSnapshot) -> CpuSnapshot:
        return CpuSnapshot(
            self.server_s - other.server_s,
            self.database_s - other.database_s,
            self.client_s - other.client_s,
            self.machine_s - other.machine_s,
        )

    @property
    def other_s(self) -> float:
        """Busy CPU not spent by the server, its database backends or the client."""
        return max(0.0, self.machine_s - self.server_s - self.database_s - self.client_s)


@dataclass(frozen=True)
class CpuProbe:
    """Whose CPU a scenario is charged for: the server process and, if any, the database's
    backends (PostgreSQL forks one process per connection)."""

    server_pid: int
    database: str | None = None

    async def pids(self) -> list[int]:
        return await backend_pids(self.database) if self.database else []

    def snapshot(self, db_pids: Sequence[int]) -> CpuSnapshot:
        return CpuSnapshot(
            server_s=process_cpu_s(self.server_pid),
            database_s=processes_cpu_s(db_pids),
            client_s=time.process_time(),
            machine_s=machine_busy_s(),
        )


# --- load driver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    check: Check


@dataclass
class Run:
    latencies_s: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    cpu: CpuSnapshot = field(default_factory=CpuSnapshot)

    def absorb(self, other: Run) -> None:
        self.latencies_s += other.latencies_s
        self.failures.update(other.failures)
        self.elapsed_s += other.elapsed_s
        self.cpu = self.cpu + other.cpu


@dataclass(frozen=True)
class Result:
    name: str
    server: str
    requests: int
    failures: Counter[str]
    elapsed_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float  # per request
    database_cpu_ms: float  # per request
    client_cpu_ms: float  # per request
    other_cpu_pct: float  # everything else on the machine, in % of one core
    concurrency: int


def make_client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S, trust_env=False)


async def _one(client: httpx.AsyncClient, scenario: Scenario) -> str | None:
    try:
        response = await client.post(scenario.url, content=scenario.body, headers=scenario.headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return scenario.check(response)


async def _worker(client: httpx.AsyncClient, scenario: Scenario, deadline: float, run: Run) -> None:
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        problem = await _one(client, scenario)
        run.latencies_s.append(time.perf_counter() - start)
        if problem is not None:
            run.failures[problem] += 1


async def drive(
    client: httpx.AsyncClient, scenario: Scenario, concurrency: int, duration_s: float
) -> Run:
    """``concurrency`` clients, each sending its next request when the last one answers."""
    run = Run()
    start = time.perf_counter()
    deadline = start + duration_s
    await asyncio.gather(*(_worker(client, scenario, deadline, run) for _ in range(concurrency)))
    run.elapsed_s = time.perf_counter() - start
    return run


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..1)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Side:
    """One server under test: what to send, whose CPU to count, and its own connection pool."""

    server: str
    scenario: Scenario
    probe: CpuProbe
    client: httpx.AsyncClient


@dataclass(frozen=True)
class Load:
    """How hard and how long each side is driven, in blocks of ``block_s``."""

    concurrency: int
    warmup_s: float
    duration_s: float
    block_s: float

    @property
    def blocks(self) -> int:
        return max(1, round(self.duration_s / self.block_s))


def summarize(side: Side, run: Run, concurrency: int) -> Result:
    count = len(run.latencies_s)
    ordered = sorted(run.latencies_s)
    per_request_ms = 1000.0 / count if count else math.nan
    return Result(
        name=side.scenario.name,
        server=side.server,
        requests=count,
        failures=run.failures,
        elapsed_s=run.elapsed_s,
        rps=count / run.elapsed_s if run.elapsed_s else math.nan,
        p50_ms=percentile(ordered, 0.50) * 1000.0,
        p99_ms=percentile(ordered, 0.99) * 1000.0,
        server_cpu_ms=run.cpu.server_s * per_request_ms,
        database_cpu_ms=run.cpu.database_s * per_request_ms,
        client_cpu_ms=run.cpu.client_s * per_request_ms,
        other_cpu_pct=100.0 * run.cpu.other_s / run.elapsed_s if run.elapsed_s else math.nan,
        concurrency=concurrency,
    )


async def _block(side: Side, db_pids: Sequence[int], load: Load) -> Run:
    before = side.probe.snapshot(db_pids)
    run = await drive(side.client, side.scenario, load.concurrency, load.duration_s / load.blocks)
    run.cpu = side.probe.snapshot(db_pids) - before
    return run


async def measure(sides: Sequence[Side], load: Load) -> list[Result]:
    """Warm every side up (figures dropped, failures kept), then drive the sides in turn, one
    block at a time, until each has been driven ``duration_s``: load from other processes then
    falls on every side alike."""
    runs = [Run() for _ in sides]
    for side, run in zip(sides, runs, strict=True):
        warmup = await drive(side.client, side.scenario, load.concurrency, load.warmup_s)
        run.failures.update({f"(warm-up) {k}": v for k, v in warmup.failures.items()})
    db_pids = [await side.probe.pids() for side in sides]
    for _ in range(load.blocks):
        for side, pids, run in zip(sides, db_pids, runs, strict=True):
            run.absorb(await _block(side, pids, load))
    return [summarize(side, run, load.concurrency) for side, run in zip(sides, runs, strict=True)]


async def measure_undisturbed(
    sides: Sequence[Side],
    load: Load,
    *,
    attempts: int,
    on_attempt: Callable[[list[Result]], None] | None = None,
) -> list[Result]:
    """:func:`measure`, again while other processes used more than ``OTHER_LOAD_LIMIT_PCT`` of
    a core (at most ``attempts`` times); keeps the least disturbed attempt, with the failures
    of every attempt."""
    kept: list[Result] = []
    failures: list[Counter[str]] = [Counter() for _ in sides]
    for _ in range(max(1, attempts)):
        results = await measure(sides, load)
        if on_attempt is not None:
            on_attempt(results)
        for total, result in zip(failures, results, strict=True):
            total.update(result.failures)
        if not kept or _disturbance(results) < _disturbance(kept):
            kept = results
        if _disturbance(results) <= OTHER_LOAD_LIMIT_PCT:
            break
    return [replace(r, failures=f) for r, f in zip(kept, failures, strict=True)]


def _disturbance(results: Sequence[Result]) -> float:
    return max(r.other_cpu_pct for r in results)


# --- the bare baseline ----------------------------------------------------------------------


Encoder = Callable[[Any], bytes]
ENCODERS: dict[str, Encoder] = {
    "compact-ascii": lambda obj: json.dumps(obj, separators=(",", ":")).encode(),  # strawberry's
    "compact-utf8": lambda obj: json.dumps(
        obj, ensure_ascii=False, separators=(",", ":")
    ).encode(),  # Starlette's JSONResponse
    "spaced-ascii": lambda obj: json.dumps(obj).encode(),
    "spaced-utf8": lambda obj: json.dumps(obj, ensure_ascii=False).encode(),
}
RAW = "raw"


@dataclass(frozen=True)
class BarePayload:
    """What the bare app answers on ``POST /<route>``: the very bytes the gateway answered."""

    route: str
    body: bytes
    content_type: str

    def spec(self) -> dict[str, Any]:
        """Re-encode the parsed answer per request with the ``json.dumps`` settings that give
        back the same bytes; if none does, send the bytes as they are (``raw``)."""
        parsed = json.loads(self.body)
        for name, encode in ENCODERS.items():
            if encode(parsed) == self.body:
                return {"encoder": name, "payload": parsed, "content_type": self.content_type}
        return {"encoder": RAW, "payload": self.body.decode(), "content_type": self.content_type}


def write_bare_payloads(path: Path, payloads: Sequence[BarePayload]) -> dict[str, str]:
    """Write the bare app's payload file; which encoder each route uses."""
    specs = {p.route: p.spec() for p in payloads}
    path.write_text(json.dumps(specs))
    return {route: spec["encoder"] for route, spec in specs.items()}


def _bare_endpoint(spec: Mapping[str, Any]) -> Callable[[Request], Awaitable[Response]]:
    payload, media_type = spec["payload"], spec["content_type"]
    encode: Encoder = ENCODERS.get(spec["encoder"], lambda text: str(text).encode())

    async def endpoint(request: Request) -> Response:
        await request.json()  # parse the request, as any JSON API must
        return Response(encode(payload), media_type=media_type)

    return endpoint


async def _bare_ready(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


def bare_app() -> Starlette:
    """Starlette with one ``POST /<route>`` per payload in the file named by
    ``PILOTGRAPH_BENCH_BARE_PAYLOADS`` (see :func:`write_bare_payloads`)."""
    specs: dict[str, Any] = json.loads(Path(os.environ[BARE_PAYLOADS_ENV]).read_text())
    routes = [Route("/readyz", _bare_ready)]
    routes += [
        Route(f"/{route}", _bare_endpoint(spec), methods=["POST"]) for route, spec in specs.items()
    ]
    return Starlette(routes=routes)


def bare_server_argv(port: int) -> list[str]:
    """uvicorn serving :func:`bare_app`, one worker, same loop and HTTP parser as the gateway."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench._harness:bare_app",
        "--factory",
        "--app-dir",
        str(REPO_ROOT),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]


# --- reporting ------------------------------------------------------------------------------


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )
