"""OpenTelemetry traces over OTLP/HTTP: HTTP requests, GraphQL operations, SQL statements."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine


def configure_tracing(
    *, service_name: str, endpoint: str | None = None, exporter: SpanExporter | None = None
) -> TracerProvider:
    """Install a tracer provider exporting to ``endpoint`` (``…/v1/traces``) or ``exporter``."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def instrument_engine(engine: AsyncEngine, provider: TracerProvider | None = None) -> None:
    """Emit a span per SQL statement run through ``engine``."""
    # The instrumentor's declared range stops below SQLAlchemy 2.1, whose cursor events it
    # uses unchanged; the tests check that statement spans still appear.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
