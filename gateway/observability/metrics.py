"""Prometheus metrics: requests and latency by route, operation and tenant; pool; domain counters;
readiness and the rollout schedule's lag, for alerts (``helm/…/prometheusrule.yaml``).

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
import logging
import os
import platform
from importlib import metadata
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from db.clock import utc_now
from gateway.observability.workers import forget_worker

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
POOL_SAMPLE_S = 5.0
SCHEDULE_SAMPLE_EVERY = 3
logger = logging.getLogger("pilotgraph.metrics")

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
HTTP_ERRORS = Counter(
    "pilotgraph_http_errors",
    "5xx answers by status and error code (OVERLOADED, INTERNAL_SERVER_ERROR, …).",
    ["status", "code"],
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
EVENTS_REFUSED = Counter(
    "pilotgraph_events_refused",
    "Adoption events refused, by the refusal's code.",
    ["tenant", "code"],
    registry=REGISTRY,
)
GUARDRAIL_PAUSES = Counter(
    "pilotgraph_rollout_guardrail_pauses",
    "Rollout plans the adoption guardrail paused.",
    ["flag"],
    registry=REGISTRY,
)
# Each worker answers probes in turn: the pod is as ready as the latest probe found it.
READY = Gauge(
    "pilotgraph_ready",
    "1 when the latest readiness probe found the database answering, 0 when it did not.",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
# Every worker looks at the same table: the largest is the pod's.
SCHEDULE_OVERDUE = Gauge(
    "pilotgraph_rollout_schedule_overdue_seconds",
    "Age of the oldest scheduled rollout step past its due time and not yet run (0: none).",
    registry=REGISTRY,
    multiprocess_mode="livemax",
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


_Labelled = TypeVar("_Labelled", Counter, Histogram)
# Each metric's children by label values: ``labels()`` validates and locks on every call, and an
# answered request asks for four. Label values are bounded (routes, methods, statuses, tenants,
# the operations' bounded names), so the dictionary is too.
_CHILDREN: dict[tuple[object, ...], Any] = {}


def child(metric: _Labelled, *values: str) -> _Labelled:
    """``metric.labels(*values)``, looked up once per label set."""
    key = (id(metric), *values)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(*values)
    labelled: _Labelled = found
    return labelled


def count_server_error(status: int, code: str) -> None:
    """Count a 5xx answer by its code; 4xx answers are the clients' business."""
    if status >= 500:
        HTTP_ERRORS.labels(str(status), code or "UNKNOWN").inc()


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
    """Samples the engine's pool every ``interval_s`` for the app's lifetime, and the rollout
    schedule's lag every ``SCHEDULE_SAMPLE_EVERY`` samples (it costs a query).

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

    async def _sample_schedule_lag(self) -> None:
        from gateway.observability.schedule_lag import overdue_seconds

        async with self.engine.connect() as connection:
            SCHEDULE_OVERDUE.set(await overdue_seconds(connection, utc_now()))

    async def _loop(self) -> None:
        samples = 0
        while True:
            sample_pool(self.engine)
            if samples % SCHEDULE_SAMPLE_EVERY == 0:
                try:
                    await self._sample_schedule_lag()
                except Exception:  # the database is down: readiness says so, the loop goes on
                    logger.warning("could not read the schedule's lag", exc_info=True)
            samples += 1
            await asyncio.sleep(self.interval_s)
