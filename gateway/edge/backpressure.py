"""Backpressure: a bound on the HTTP requests one worker serves at once.

Without it, a load peak queues requests for a pool connection until the pool's timeout and then
answers them as if the database were down. With it, the requests beyond the bound are answered
at once, ``503 OVERLOADED`` with ``Retry-After``: the client knows to come back, an operator
sees load rather than an outage, and the requests admitted keep their latency. Probes are never
refused: a busy replica is still live and ready.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.responses import error_response

# Probes and metrics: a replica at capacity must not look dead or unready to Kubernetes. The
# console's server-sent events: a stream stays open for hours and mostly waits; counted, a few
# open consoles would take a worker's every slot.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/admin/api/events"})
RETRY_AFTER_S = 1
OVERLOADED_MESSAGE = "The gateway is at capacity; retry after the time in Retry-After."


class Backpressure:
    """Serve at most ``limit`` HTTP requests at once; answer the others 503 ``OVERLOADED``.

    Counted from the request's arrival until its answer is sent. WebSocket connections and the
    console's event stream are not counted (GraphQL operations over WebSocket pass the edge's
    limits one by one).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            refused = error_response(
                503, "OVERLOADED", OVERLOADED_MESSAGE, {"Retry-After": str(RETRY_AFTER_S)}
            )
            await refused(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
