"""``pilotgraph serve --workers N``: one private metrics port adds up every worker.

The gateway runs as a real process tree (uvicorn's supervisor and its workers) on a migrated
SQLite file; requests go to the public port, scrapes to the metrics port.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.pool import QueuePool

from db.engine import make_engine
from gateway import migrate

WORKERS = 2
START_TIMEOUT_S = 90.0
SETTLE_TIMEOUT_S = 10.0
HEALTHZ_REQUESTS = re.compile(
    r'^pilotgraph_http_requests_total\{method="GET",route="/healthz",status="200",tenant="-"\} '
    r"(?P<value>\S+)$",
    re.MULTILINE,
)

POOL_SIZE_LINE = re.compile(
    r'^pilotgraph_db_pool_connections\{state="size"\} (?P<value>\S+)$', re.MULTILINE
)


@dataclass(frozen=True)
class Served:
    public: str
    metrics: str
    pid: int  # uvicorn's supervisor; the workers are its children
    pool_size: int  # each worker's


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_ready(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "pilotgraph serve exited while starting"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"pilotgraph serve did not answer {url} within {START_TIMEOUT_S} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def pool_size_of(url: str) -> int:
    pool = make_engine(url).sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.size()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``pilotgraph serve --workers 2`` on free ports over a freshly migrated SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('serve') / 'pilotgraph.db'}"
    migrate.upgrade(url, "head")
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGRAPH_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env |= {
        "PILOTGRAPH_DATABASE_URL": url,
        "PILOTGRAPH_METRICS_PORT": str(metrics_port),
        "PILOTGRAPH_METRICS_HOST": "127.0.0.1",
        "PILOTGRAPH_LOG_LEVEL": "warning",
    }
    pilotgraph = str(Path(sys.executable).parent / "pilotgraph")
    command = [
        pilotgraph,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
    ]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).parents[2])
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/readyz")
        public, metrics = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
        yield Served(public, metrics, process.pid, pool_size_of(url))
    finally:
        stop(process)


def healthz_count(metrics_url: str) -> float:
    text = httpx.get(f"{metrics_url}/metrics", timeout=5).text
    found = HEALTHZ_REQUESTS.search(text)
    return float(found["value"]) if found else 0.0


def pool_size(metrics_url: str) -> float:
    found = POOL_SIZE_LINE.search(httpx.get(f"{metrics_url}/metrics", timeout=5).text)
    assert found, "no pool size in the scrape"
    return float(found["value"])


def wait_for_pool_sample(pid: int) -> None:
    """Wait until worker ``pid`` has written its pool gauges (it maps its live gauge file)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while f"gauge_livesum_{pid}.db" not in Path(f"/proc/{pid}/maps").read_text():
        assert time.monotonic() < deadline, f"worker {pid} never sampled its pool"
        time.sleep(0.2)


def settled_count(metrics_url: str, expected: float, seen: list[float]) -> float:
    """Scrape until the count reaches ``expected`` (a worker counts just after it answers)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        seen.append(healthz_count(metrics_url))
        if seen[-1] >= expected or time.monotonic() > deadline:
            return seen[-1]
        time.sleep(0.05)


def request_healthz(served: Served, times: int) -> None:
    for _ in range(times):  # fresh connections, so the kernel hands them to either worker
        assert httpx.get(f"{served.public}/healthz", timeout=5).status_code == 200


def workers_of(supervisor: int) -> set[int]:
    """The supervisor's worker processes (uvicorn spawns them; a resource tracker is not one)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
            if ppid == supervisor and b"resource_tracker" not in cmdline:
                found.add(int(stat.parent.name))
    return found


def replacement_of(served: Served, before: set[int], victim: int) -> int:
    """The worker uvicorn started in place of ``victim``."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        now = workers_of(served.pid)
        if len(now) == WORKERS and victim not in now:
            return (now - before).pop()
        time.sleep(0.2)
    pytest.fail(f"no worker replaced {victim} within {START_TIMEOUT_S} s")


def test_request_count_is_monotonic_and_exact_across_workers(served: Served) -> None:
    # given
    rounds, per_round = 4, 10
    start = healthz_count(served.metrics)
    seen: list[float] = []
    # when
    for done in range(1, rounds + 1):
        request_healthz(served, per_round)
        settled = settled_count(served.metrics, start + done * per_round, seen)
        # then: every scrape holds every request so far, whichever worker answered it
        assert settled == start + done * per_round
    assert seen == sorted(seen)


def test_a_killed_worker_keeps_its_counts(served: Served) -> None:
    # given: requests answered by both workers
    start = healthz_count(served.metrics)
    seen: list[float] = []
    request_healthz(served, 20)
    settled_count(served.metrics, start + 20, seen)
    workers = workers_of(served.pid)
    victim = min(workers)
    # when: a worker dies without a word and uvicorn starts another
    os.kill(victim, signal.SIGKILL)
    replacement = replacement_of(served, workers, victim)
    wait_for_pool_sample(replacement)
    seen.append(healthz_count(served.metrics))
    request_healthz(served, 10)
    settled = settled_count(served.metrics, start + 30, seen)
    # then: the dead worker's requests still count and the count never went down; its pool no
    # longer counts among the live workers'
    assert settled == start + 30
    assert seen == sorted(seen)
    assert pool_size(served.metrics) == WORKERS * served.pool_size


def test_the_public_port_of_a_served_gateway_has_no_metrics(served: Served) -> None:
    # when
    public = httpx.get(f"{served.public}/metrics", timeout=5)
    private = httpx.get(f"{served.metrics}/metrics", timeout=5)
    # then
    assert public.status_code == 404
    assert public.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert private.status_code == 200
    assert "pilotgraph_build_info{" in private.text
    assert 'pilotgraph_db_pool_connections{state="size"}' in private.text


def test_serve_stops_when_the_metrics_port_is_taken(tmp_path: Path) -> None:
    # given: something already listens on the metrics port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGRAPH_")}
        env |= {
            "PILOTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
            "PILOTGRAPH_METRICS_PORT": str(port),
        }
        # when
        result = subprocess.run(
            [str(Path(sys.executable).parent / "pilotgraph"), "serve", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    # then: it says so and exits, rather than serving without metrics
    assert result.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}" in result.stderr


def test_a_terminated_gateway_leaves_no_metrics_files(tmp_path: Path) -> None:
    # given: one worker, serving in the main process, with its temporary files under tmp_path
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    url = f"sqlite+aiosqlite:///{tmp_path / 'pilotgraph.db'}"
    migrate.upgrade(url, "head")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGRAPH_")}
    env |= {
        "TMPDIR": str(temporary),
        "PILOTGRAPH_DATABASE_URL": url,
        "PILOTGRAPH_METRICS_PORT": str(free_port()),
        "PILOTGRAPH_LOG_LEVEL": "warning",
    }
    pilotgraph = str(Path(sys.executable).parent / "pilotgraph")
    process = subprocess.Popen([pilotgraph, "serve", "--port", str(port)], env=env)
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/readyz")
        served_with = [p.name for p in temporary.iterdir()]
    finally:
        # when: Kubernetes stops the pod
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=30)
    # then: the metrics directory existed while serving and is gone, and the exit still says
    # SIGTERM (uvicorn raises it again once shut down)
    assert len(served_with) == 1
    assert served_with[0].startswith("pilotgraph-metrics-")
    assert list(temporary.iterdir()) == []
    assert exit_code in (0, -signal.SIGTERM)
