"""Prometheus metrics: requests and latency by route, operation and tenant; pool; domain counters.

Other packages count their own events through the counters defined here (flag evaluations,
ingested events); labels never carry member ids, only tenants, so cardinality stays bounded.

Under ``pilotgraph serve`` every worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR``
and the private metrics listener (:mod:`gateway.observability.listener`) adds them up, so each
gauge says how the workers combine (``multiprocess_mode``). Without that directory (tests, a
plain ``uvicorn`` run) the values stay in the process and the listener's app reads them there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
from importlib import metadata

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from gateway.observability.workers import forget_worker

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
POOL_SAMPLE_S = 5.0

HTTP_REQUESTS = Counter(
    "pilotgraph_http_requests",
    "HTTP requests answered.",
    ["route", "method", "status", "tenant"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "pilotgraph_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["route", "method", "tenant"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
GRAPHQL_OPERATIONS = Counter(
    "pilotgraph_graphql_operations",
    "GraphQL operations executed.",
    ["operation", "tenant", "outcome"],
    registry=REGISTRY,
)
GRAPHQL_LATENCY = Histogram(
    "pilotgraph_graphql_operation_duration_seconds",
    "Time to answer a GraphQL operation.",
    ["operation", "tenant"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
FLAG_EVALUATIONS = Counter(
    "pilotgraph_flag_evaluations",
    "Feature flag evaluations.",
    ["flag", "tenant", "reason"],
    registry=REGISTRY,
)
EVENTS_INGESTED = Counter(
    "pilotgraph_events_ingested",
    "Adoption events received, by outcome.",
    ["tenant", "outcome"],
    registry=REGISTRY,
)
GUARDRAIL_PAUSES = Counter(
    "pilotgraph_rollout_guardrail_pauses",
    "Rollout plans the adoption guardrail paused.",
    ["flag"],
    registry=REGISTRY,
)
# Every worker sets the same 1: the largest is that 1.
BUILD_INFO = Gauge(
    "pilotgraph_build_info",
    "Always 1; labels name the build.",
    ["version", "python"],
    registry=REGISTRY,
    multiprocess_mode="max",
)
# Each worker has its own pool: the pod's connections are the sum over the workers still alive.
DB_POOL = Gauge(
    "pilotgraph_db_pool_connections",
    "Database pool connections by state, summed over the live workers.",
    ["state"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)


def _version() -> str:
    try:
        return metadata.version("pilotgraph")
    except metadata.PackageNotFoundError:
        return "unknown"


BUILD_INFO.labels(version=_version(), python=platform.python_version()).set(1)


def sample_pool(engine: AsyncEngine) -> None:
    """Set the pool gauges from ``engine``'s connection pool as it is now."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return
    DB_POOL.labels("checked_out").set(pool.checkedout())
    DB_POOL.labels("idle").set(pool.checkedin())
    DB_POOL.labels("size").set(pool.size())
    DB_POOL.labels("overflow").set(max(pool.overflow(), 0))


class PoolGauges:
    """Samples the engine's pool every ``interval_s`` for the app's lifetime.

    Scrapes happen in another process, so the pool is read here, not at scrape time.
    """

    def __init__(self, engine: AsyncEngine, interval_s: float = POOL_SAMPLE_S) -> None:
        self.engine, self.interval_s = engine, interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Sample now, then every ``interval_s``."""
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop sampling; a worker that stops no longer counts in the live sums."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        forget_worker(os.getpid())

    async def _loop(self) -> None:
        while True:
            sample_pool(self.engine)
            await asyncio.sleep(self.interval_s)
