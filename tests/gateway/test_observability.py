"""Signals: request ids, JSON access lines, Prometheus metrics, OpenTelemetry spans."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform

import httpx
import pytest
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

from db.engine import make_engine
from gateway.app import create_app
from gateway.observability import metrics
from gateway.observability.listener import ListenerError, metrics_listener
from gateway.observability.logs import configure_logging
from gateway.observability.tracing import instrument_engine
from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.graphql import gql
from tests.metrics import scrape
from tests.tracing import in_memory_tracing

HOME = "query Home { me { fullName } tenant { slug } }"


@pytest.fixture
def member(client_for, token):
    return client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))


async def test_request_id_is_echoed_or_generated(member):
    # when
    given = await member.post("/graphql", json={"query": HOME}, headers={"X-Request-ID": "abc-1"})
    made = await member.post("/graphql", json={"query": HOME}, headers={"X-Request-ID": "bad id!"})
    # then
    assert given.headers["X-Request-ID"] == "abc-1"
    assert len(made.headers["X-Request-ID"]) == 32


async def test_metrics_count_requests_by_route_operation_and_tenant(member):
    # given
    await gql(member, HOME)
    # when
    response = scrape()
    # then
    assert response.status_code == 200
    text = response.text
    assert (
        'pilotgraph_http_requests_total{method="POST",route="/graphql",status="200",'
        'tenant="yen-mo"}' in text
    )
    assert (
        'pilotgraph_graphql_operations_total{operation="Home",outcome="ok",tenant="yen-mo"}' in text
    )
    assert "pilotgraph_graphql_operation_duration_seconds_bucket" in text


@pytest.mark.parametrize(
    "path",
    [
        "/metrics",
        "/metrics/",
        "/metrics?name[]=pilotgraph_build_info",
        "/t/yen-mo/metrics",
        "/t/yen-mo/metrics/",
        "//metrics",
    ],
)
async def test_the_public_port_has_no_metrics(member, client_for, path):
    # given: an anonymous caller and a signed-in member, after some traffic
    await gql(member, HOME)
    anonymous = client_for(headers={"X-Tenant": world.YEN_MO})
    # when: the path as sent on the wire (httpx would read "//metrics" as the host "metrics")
    answers = [
        await client.get(client.base_url.copy_with(raw_path=path.encode()))
        for client in (anonymous, member)
    ]
    # then: a coded 404, and not one figure
    for response in answers:
        assert response.status_code == 404
        assert response.json() == {
            "errors": [{"message": "Not found.", "extensions": {"code": "NOT_FOUND"}}]
        }
        assert "pilotgraph_" not in response.text


async def test_a_tenant_host_has_no_metrics_either(edge_client):
    # given: tenants served at {tenant}.{base domain}
    client = edge_client(settings__base_domain="pilot.example.org")
    # when
    response = await client.get("/metrics", headers={"Host": "yen-mo.pilot.example.org"})
    # then
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_the_metrics_listener_serves_only_metrics():
    # when
    other = scrape("/")
    prefixed = scrape("/t/yen-mo/metrics")
    # then
    for response in (other, prefixed):
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_the_listener_refuses_values_already_kept_in_process():
    # given: this process imported prometheus_client before any multiprocess directory was set
    # when / then: starting the listener would serve the workers' files without this process's
    # values, so it refuses
    with (
        pytest.raises(ListenerError, match="imported before PROMETHEUS_MULTIPROC_DIR"),
        metrics_listener("127.0.0.1", 1),
    ):
        pass
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_metrics_port_zero_serves_nothing():
    # when
    with metrics_listener("127.0.0.1", 0):
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    # then
    assert directory is None


def test_build_info_names_version_and_python():
    # when
    text = scrape().text
    # then
    assert f'pilotgraph_build_info{{python="{platform.python_version()}",version="' in text


async def test_pool_gauges_are_sampled_by_the_worker(app_engine):
    # given
    gauges = metrics.PoolGauges(app_engine, interval_s=60)
    # when
    await gauges.start()
    await asyncio.sleep(0)
    await gauges.stop()
    # then
    assert 'pilotgraph_db_pool_connections{state="size"}' in scrape().text


async def test_access_line_is_json_with_request_fields(member, capsys):
    # given
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(json=True)
    try:
        # when
        await member.post("/graphql", json={"query": HOME}, headers={"X-Request-ID": "req-42"})
    finally:
        root.handlers, _ = saved[0], root.setLevel(saved[1])
    # then
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    access = next(line for line in lines if line.get("event") == "request")
    assert access["request_id"] == "req-42"
    assert access["tenant"] == "yen-mo"
    assert access["principal"] == str(world.YM_MEMBER_A)
    assert access["operation"] == "Home"
    assert access["status"] == 200
    assert access["duration_ms"] > 0
    assert access["error_ids"] == []


async def test_traces_cover_the_operation_and_its_sql(database, gateway):
    # given: tracing configured, exported in memory
    exporter, provider = in_memory_tracing()
    exporter.clear()
    engine = make_engine(database.app_url)
    instrument_engine(engine, provider)
    gateway.engine = engine
    from db.sessions import make_sessionmaker

    gateway.sessionmaker = make_sessionmaker(engine)
    app = create_app(make_settings(database, otlp_endpoint="http://127.0.0.1:1/v1/traces"), gateway)
    from gateway.auth import issue_development_token

    token = issue_development_token(
        gateway.settings, subject=str(world.YM_MEMBER_A), roles=[Role.MEMBER], tenant="yen-mo"
    )
    # when
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=headers
    ) as client:
        status, _ = await gql(client, HOME)
    SQLAlchemyInstrumentor().uninstrument()
    await engine.dispose()
    # then
    names = [span.name for span in exporter.get_finished_spans()]
    assert status == 200
    assert "query Home" in names
    assert any(name.startswith("SELECT") for name in names)
