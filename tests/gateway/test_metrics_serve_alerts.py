"""Under ``pilotgraph serve --workers 2``, the alert metrics add up across workers: counters only
grow from scrape to scrape and sum to exactly the requests sent, readiness and schedule lag show."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import migrate
from tests.gateway.test_metrics_serve import free_port, stop, wait_until_ready

WORKERS = 2
REQUESTS = 30
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def gateway_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('alerts') / 'pilotgraph.db'}"
    migrate.upgrade(url, "head")
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGRAPH_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env |= {
        "PILOTGRAPH_DATABASE_URL": url,
        "PILOTGRAPH_METRICS_PORT": str(metrics_port),
        "PILOTGRAPH_LOG_LEVEL": "warning",
    }
    pilotgraph = str(Path(sys.executable).parent / "pilotgraph")
    command = [pilotgraph, "serve", "--port", str(port), "--workers", str(WORKERS)]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).parents[2])
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        stop(process)


def scrape(metrics_url: str) -> Samples:
    text = httpx.get(metrics_url, timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def counters(samples: Samples) -> Samples:
    return {key: value for key, value in samples.items() if key[0].endswith("_total")}


def answered(samples: Samples, route: str) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "pilotgraph_http_requests_total" and ("route", route) in labels
    )


def test_counters_grow_and_sum_to_the_requests_sent(gateway_urls):
    # given
    public, metrics = gateway_urls
    seen = [scrape(metrics)]
    start = {route: answered(seen[0], route) for route in ("/healthz", "/readyz")}
    # when: N requests on fresh connections (either worker answers), scraped as they go
    for sent in range(REQUESTS):
        path = "/healthz" if sent % 2 else "/readyz"
        assert httpx.get(f"{public}{path}", timeout=5).status_code == 200
        seen.append(scrape(metrics))
    deadline = time.monotonic() + 10
    while min(answered(seen[-1], r) - start[r] for r in start) < REQUESTS // 2:
        assert time.monotonic() < deadline, "the workers' counts never settled"
        time.sleep(0.05)
        seen.append(scrape(metrics))
    # then: no counter ever went down, and the sums are exact
    for before, after in itertools.pairwise(seen):
        for key, value in counters(before).items():
            assert counters(after).get(key, 0.0) >= value, f"{key} went down"
    assert answered(seen[-1], "/healthz") - start["/healthz"] == REQUESTS // 2
    assert answered(seen[-1], "/readyz") - start["/readyz"] == REQUESTS // 2
    assert seen[-1][("pilotgraph_ready", ())] == 1
    assert seen[-1][("pilotgraph_rollout_schedule_overdue_seconds", ())] == 0
    assert [k for k in seen[-1] if k[0] == "pilotgraph_build_info"]
