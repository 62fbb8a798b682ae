"""Pure ASGI middleware: request id, one structured access line, and request metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability import metrics
from gateway.state import SCOPE_KEY, RequestScope
from schema.observe import ERROR_IDS_KEY, OPERATION_KEY

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics", "/ofrep/", "/v1/", "/admin")
OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 500
logger = structlog.get_logger("pilotgraph.access")
_operation_labels: set[str] = set()


def _operation_label(name: str) -> str:
    """Client-chosen operation names become labels only while their number stays bounded."""
    if name in _operation_labels:
        return name
    if OPERATION_NAME.match(name) and len(_operation_labels) < MAX_OPERATION_LABELS:
        _operation_labels.add(name)
        return name
    return "other"


def _access_logged() -> bool:
    """Whether an access line at INFO would be written (a level above it drops the line before
    structlog's processors format it)."""
    return logging.getLogger("pilotgraph.access").isEnabledFor(logging.INFO)


def route_label(path: str) -> str:
    """A bounded label: the known route prefix, never a raw path."""
    for route in ROUTES:
        if path == route or path.startswith(route.rstrip("/") + "/"):
            return route.rstrip("/")
    return "other"


class AccessMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._observe(scope, status["code"], time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        state: dict[str, Any] = scope.get("state", {})
        request: RequestScope | None = state.get(SCOPE_KEY)
        tenant = request.tenant.id if request and request.tenant else "-"
        route, method = route_label(scope["path"]), scope["method"]
        operation = state.get(OPERATION_KEY)
        metrics.child(metrics.HTTP_REQUESTS, route, method, str(status), tenant).inc()
        metrics.child(metrics.HTTP_LATENCY, route, method, tenant).observe(seconds)
        if operation is not None:
            label = _operation_label(operation)
            outcome = "ok" if status < 400 and not state.get(ERROR_IDS_KEY) else "error"
            metrics.child(metrics.GRAPHQL_OPERATIONS, label, tenant, outcome).inc()
            metrics.child(metrics.GRAPHQL_LATENCY, label, tenant).observe(seconds)
        if not _access_logged():
            return
        logger.info(
            "request",
            method=method,
            path=scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 2),
            tenant=tenant,
            principal=request.principal.subject if request and request.principal else None,
            operation=operation,
            error_ids=state.get(ERROR_IDS_KEY, []),
        )
