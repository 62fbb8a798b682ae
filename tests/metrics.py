"""Reading the metrics as Prometheus does: through the private listener's app, never the API."""

from __future__ import annotations

import httpx

from gateway.observability.listener import metrics_app


def scrape(path: str = "/metrics") -> httpx.Response:
    """``GET path`` on the metrics listener's app (in-process values in tests)."""
    transport = httpx.WSGITransport(app=metrics_app())
    with httpx.Client(transport=transport, base_url="http://metrics") as client:
        return client.get(path)
