"""Pure ASGI middleware: an exception that escapes a handler still gets a coded answer.

Without it Starlette answers ``500 text/plain`` and re-raises, and the server then closes the
client's kept-alive connection without saying ``Connection: close``: the client's next request
fails too. Here the exception is logged once with its stack trace and answered by
:func:`gateway.responses.fault_response` — ``503 SERVICE_UNAVAILABLE`` or ``503 QUERY_TIMEOUT``
with ``Retry-After`` when the database failed or was too slow, else ``500
INTERNAL_SERVER_ERROR`` — and the connection stays usable. Once the answer has started it
cannot be replaced: the exception is logged and the server closes the unfinished answer.

It sits inside the access log (which must see the status actually sent) and outside every
other middleware, so a failure in tenancy or rate limiting is answered the same way.
WebSocket and lifespan scopes pass through untouched.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge.caching import NO_STORE
from gateway.responses import fault_response
from schema.errors import unexpected


class Faults:
    """Answer an escaping exception with coded JSON; never let it reach the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except ClientDisconnect:
            return  # the client left while its body was read: nobody to answer, no fault
        except Exception as error:  # the point: nothing escapes uncoded
            fault = unexpected(error, at=f"{scope['method']} {scope['path']}")
            if started:
                return  # too late to answer: the server closes the unfinished response
            response = fault_response(fault)
            response.headers["cache-control"] = NO_STORE
            response.headers["x-content-type-options"] = "nosniff"
            await response(scope, receive, send)


__all__ = ["Faults"]
