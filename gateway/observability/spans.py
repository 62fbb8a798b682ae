"""Pure ASGI middleware: a SERVER span per HTTP request and WebSocket, continuing the trace.

The W3C ``traceparent`` (and ``tracestate``) of the request is extracted, so a trace started by
the router or a client goes on here. Attributes follow the current HTTP semantic conventions and
name the route, never the query string or body: ``GET /graphql?variables=…`` carries values.
Without a configured tracer provider the spans are OpenTelemetry's no-op ones.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability.access import route_label

tracer = trace.get_tracer("pilotgraph.http")


class _HeaderGetter(Getter[Scope]):
    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier.get("headers", []) if k.lower() == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _v in carrier.get("headers", [])]


_GETTER = _HeaderGetter()


def _attributes(scope: Scope, route: str) -> dict[str, Any]:
    method = scope.get("method", "GET")
    return {
        "http.request.method": method,
        "http.route": route,
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.name": "websocket" if scope["type"] == "websocket" else "http",
    }


class ServerSpans:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        route = route_label(scope["path"])
        method = scope.get("method", "GET")
        name = f"{method} {route}" if route != "other" else method
        context = propagate.extract(scope, getter=_GETTER)
        with tracer.start_as_current_span(
            name, context=context, kind=SpanKind.SERVER, attributes=_attributes(scope, route)
        ) as span:

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    _set_status(span, message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                _name_route(span, scope, method)


def _name_route(span: trace.Span, scope: Scope, method: str) -> None:
    """Once routed, name the span by the matched route's template (``/ofrep/v1/evaluate/flags/
    {key:path}``), which holds no value; unrouted requests keep the bounded prefix."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str) and template:
        span.set_attribute("http.route", template)
        span.update_name(f"{method} {template}")


def _set_status(span: trace.Span, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
