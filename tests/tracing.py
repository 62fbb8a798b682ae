"""Spans kept in memory: the process has one global tracer provider, installed once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.app import create_app
from gateway.observability.tracing import instrument_engine
from gateway.state import GatewayState
from tests import databases
from tests.conftest import make_settings

_TRACING: list[tuple[InMemorySpanExporter, TracerProvider]] = []


def in_memory_tracing() -> tuple[InMemorySpanExporter, TracerProvider]:
    """The exporter and provider every test's spans go to; call ``exporter.clear()`` first."""
    if not _TRACING:
        exporter, provider = InMemorySpanExporter(), TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _TRACING.append((exporter, provider))
    return _TRACING[0]


async def traced_client(
    database: databases.TestDatabase, gateway: GatewayState
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a tracing gateway whose engine's statements are traced too (committed: the
    tracing engine is not the test's transaction)."""
    _, provider = in_memory_tracing()
    engine = make_engine(database.app_url)
    instrument_engine(engine, provider)
    gateway.engine, gateway.sessionmaker = engine, make_sessionmaker(engine)
    settings = make_settings(database, otlp_endpoint="http://127.0.0.1:1")
    app = create_app(settings, gateway)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
    finally:
        SQLAlchemyInstrumentor().uninstrument()
        await engine.dispose()


def spans_named(spans: tuple[ReadableSpan, ...], prefix: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name.startswith(prefix)]
