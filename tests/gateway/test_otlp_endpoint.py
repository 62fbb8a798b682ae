"""PILOTGRAPH_OTLP_ENDPOINT: a collector's base URL or its traces URL, never the gRPC port."""

from __future__ import annotations

import pytest

from gateway.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("http://otel-collector:4318", "http://otel-collector:4318/v1/traces"),
        ("http://otel-collector:4318/", "http://otel-collector:4318/v1/traces"),
        ("https://otel.example.vn", "https://otel.example.vn/v1/traces"),
        ("http://otel-collector:4318/v1/traces", "http://otel-collector:4318/v1/traces"),
        ("https://gw.example.vn/otlp/v1/traces", "https://gw.example.vn/otlp/v1/traces"),
        ("", None),
    ],
)
def test_a_base_url_gets_the_traces_path(monkeypatch, given, used):
    # given
    monkeypatch.setenv("PILOTGRAPH_OTLP_ENDPOINT", given)
    # when
    settings = load_settings()
    # then
    assert settings.otlp_endpoint == used


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("http://otel-collector:4317", "is the OTLP/gRPC port; traces are sent over OTLP/HTTP"),
        ("otel-collector:4318", "is not an http(s) URL"),
        ("grpc://otel-collector:4318", "is not an http(s) URL"),
        ("http://otel-collector:99999", "is not a URL"),
    ],
)
def test_the_grpc_port_and_non_http_urls_are_refused_at_start(monkeypatch, given, message):
    # given
    monkeypatch.setenv("PILOTGRAPH_OTLP_ENDPOINT", given)
    # when
    with pytest.raises(SettingsError) as refused:
        load_settings()
    # then
    assert "PILOTGRAPH_OTLP_ENDPOINT: Value error" in str(refused.value)
    assert message in str(refused.value)


def test_the_standard_otel_variables_are_honoured(monkeypatch):
    # given
    monkeypatch.delenv("PILOTGRAPH_OTLP_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    # when
    settings = load_settings()
    # then
    assert settings.otlp_endpoint == "http://collector:4318/v1/traces"


def test_the_gateways_own_variable_wins(monkeypatch):
    # given
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318")
    monkeypatch.setenv("PILOTGRAPH_OTLP_ENDPOINT", "http://collector:4318")
    # when
    settings = load_settings()
    # then
    assert settings.otlp_endpoint == "http://collector:4318/v1/traces"
