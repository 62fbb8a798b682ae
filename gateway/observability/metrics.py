"""Prometheus metrics: requests and latency by route, operation and tenant; pool; domain counters.

Other packages count their own events through the counters defined here (flag evaluations,
ingested events); labels never carry member ids, only tenants, so cardinality stays bounded.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.requests import Request
from starlette.responses import Response

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "pilotgraph_http_requests", "HTTP requests answered.",
    ["route", "method", "status", "tenant"], registry=REGISTRY,
)  # fmt: skip
HTTP_LATENCY = Histogram(
    "pilotgraph_http_request_duration_seconds", "Time to answer an HTTP request.",
    ["route", "method", "tenant"], buckets=LATENCY_BUCKETS, registry=REGISTRY,
)  # fmt: skip
GRAPHQL_OPERATIONS = Counter(
    "pilotgraph_graphql_operations", "GraphQL operations executed.",
    ["operation", "tenant", "outcome"], registry=REGISTRY,
)  # fmt: skip
GRAPHQL_LATENCY = Histogram(
    "pilotgraph_graphql_operation_duration_seconds", "Time to answer a GraphQL operation.",
    ["operation", "tenant"], buckets=LATENCY_BUCKETS, registry=REGISTRY,
)  # fmt: skip
FLAG_EVALUATIONS = Counter(
    "pilotgraph_flag_evaluations", "Feature flag evaluations.",
    ["flag", "tenant", "reason"], registry=REGISTRY,
)  # fmt: skip
EVENTS_INGESTED = Counter(
    "pilotgraph_events_ingested", "Adoption events received, by outcome.",
    ["tenant", "outcome"], registry=REGISTRY,
)  # fmt: skip
GUARDRAIL_PAUSES = Counter(
    "pilotgraph_rollout_guardrail_pauses", "Rollout plans the adoption guardrail paused.",
    ["flag"], registry=REGISTRY,
)  # fmt: skip
BUILD_INFO = Gauge("pilotgraph_build_info", "Always 1; labels name the build.", ["version"],
                   registry=REGISTRY)  # fmt: skip


class PoolCollector(Collector):
    """Reads the engine's connection pool at scrape time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self):  # type: ignore[no-untyped-def]  # prometheus-client's own signature
        pool = self.engine.sync_engine.pool
        family = GaugeMetricFamily(
            "pilotgraph_db_pool_connections", "Database pool connections by state.",
            labels=["state"],
        )  # fmt: skip
        if isinstance(pool, QueuePool):
            family.add_metric(["checked_out"], pool.checkedout())
            family.add_metric(["idle"], pool.checkedin())
            family.add_metric(["size"], pool.size())
            family.add_metric(["overflow"], max(pool.overflow(), 0))
        yield family


_pool_collectors: dict[int, PoolCollector] = {}


def watch_pool(engine: AsyncEngine) -> None:
    """Expose ``engine``'s pool on /metrics (once per engine)."""
    if id(engine) not in _pool_collectors:
        collector = PoolCollector(engine)
        REGISTRY.register(collector)
        _pool_collectors[id(engine)] = collector


def unwatch_pool(engine: AsyncEngine) -> None:
    collector = _pool_collectors.pop(id(engine), None)
    if collector is not None:
        REGISTRY.unregister(collector)


async def metrics_endpoint(_request: Request) -> Response:
    """``GET /metrics`` in the Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
