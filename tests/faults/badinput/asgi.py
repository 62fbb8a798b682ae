"""The app as the generator's in-process client sees it: event streams end after their headers.

httpx's ASGI transport waits for the whole body, and an event stream (``/admin/api/events``)
never ends; its status and headers are what a probe checks, so the stream is cut there.
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVENT_STREAM = b"text/event-stream"


class _StreamCut(Exception):
    pass


class EndEventStreams:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def cut(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start" and _streams(message):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _StreamCut

        with contextlib.suppress(_StreamCut):
            await self.app(scope, receive, cut)


def _streams(message: dict[str, Any]) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(EVENT_STREAM)
        for name, value in message.get("headers", [])
    )
