"""Pure ASGI middleware: answers are not stored by browsers or shared caches unless they say so.

GraphQL, OFREP and the CSV export carry one tenant's data for one caller; a proxy or a shared
browser that kept a copy would hand it to the next person. Every HTTP answer that does not set
its own ``Cache-Control`` gets ``no-store``; it applies whatever ``edge.security_headers`` says,
since it protects data rather than hardens a page. Conditional requests still work:
``ETag``/``If-None-Match`` (OFREP) are validated by the client, not by a cache.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = "no-store"


class NoStore:
    """``Cache-Control: no-store`` on every HTTP answer that did not set a policy of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def without_storing(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("cache-control", NO_STORE)
            await send(message)

        await self.app(scope, receive, without_storing)
