"""Where traces go: the collector's OTLP/HTTP traces URL, from what an operator wrote.

``http://collector:4318`` gets ``/v1/traces`` appended, as the OpenTelemetry SDK does for
``OTEL_EXPORTER_OTLP_ENDPOINT``; a URL already ending in ``/v1/traces`` is used unchanged. The
gRPC port 4317 and anything not http(s) are refused: the exporter speaks OTLP/HTTP only, and
would otherwise post to a port that never answers it, losing every trace without a word.
"""

from __future__ import annotations

from urllib.parse import urlsplit

TRACES_PATH = "/v1/traces"
GRPC_PORT = 4317


def otlp_traces_url(value: str | None) -> str | None:
    """The traces URL for ``value``; ``ValueError`` saying what to write instead."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{value!r} is not an http(s) URL; give the collector's OTLP/HTTP address,"
            " e.g. http://otel-collector:4318"
        )
    if port == GRPC_PORT:
        raise ValueError(
            f"{value!r} is the OTLP/gRPC port; traces are sent over OTLP/HTTP, usually port 4318"
        )
    if parts.path.rstrip("/").endswith(TRACES_PATH):
        return value
    return value.rstrip("/") + TRACES_PATH
