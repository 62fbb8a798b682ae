"""Signals operators watch: structured logs, Prometheus metrics, OpenTelemetry traces."""
