"""graphql-transport-ws in tests: a WebSocket client on an in-process ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

PROTOCOL = "graphql-transport-ws"
TIMEOUT_S = 10.0


class Refused(Exception):
    """The app refused the handshake: an HTTP answer, or a close before accepting."""

    def __init__(self, status: int, body: dict[str, Any] | None) -> None:
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body


class Socket:
    """One WebSocket connection driven message by message."""

    def __init__(self) -> None:
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ids = itertools.count(1)

    async def receive(self) -> dict[str, Any]:
        return await self.to_app.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.from_app.put(message)

    async def send_json(self, data: dict[str, Any]) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.from_app.get(), TIMEOUT_S)
        if message["type"] == "websocket.close":
            raise ConnectionError(f"closed {message.get('code')}: {message.get('reason')}")
        return json.loads(message["text"])

    async def operation(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Subscribe, and collect messages until ``complete`` or ``error``."""
        operation_id = str(next(self.ids))
        await self.send_json({"id": operation_id, "type": "subscribe", "payload": payload})
        messages: list[dict[str, Any]] = []
        while not messages or messages[-1]["type"] not in ("complete", "error"):
            messages.append(await self.receive_json())
        return messages


def _scope(path: str, headers: dict[str, str], subprotocol: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "subprotocols": [subprotocol],
        "extensions": {"websocket.http.response": {}},
    }


async def _handshake(socket: Socket) -> None:
    await socket.to_app.put({"type": "websocket.connect"})
    first = await asyncio.wait_for(socket.from_app.get(), TIMEOUT_S)
    if first["type"] == "websocket.http.response.start":
        body = await asyncio.wait_for(socket.from_app.get(), TIMEOUT_S)
        raise Refused(first["status"], json.loads(body.get("body") or b"null"))
    if first["type"] != "websocket.accept":
        raise Refused(403, {"close": first.get("code")})
    await socket.send_json({"type": "connection_init"})
    ack = await socket.receive_json()
    assert ack["type"] == "connection_ack", ack


@contextlib.asynccontextmanager
async def connect(
    app: Any, token: str | None = None, *, path: str = "/graphql", subprotocol: str = PROTOCOL
) -> AsyncIterator[Socket]:
    """An acknowledged graphql-transport-ws connection to ``app`` (signed in with ``token``)."""
    headers = {"host": "testserver"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    socket = Socket()
    task = asyncio.create_task(app(_scope(path, headers, subprotocol), socket.receive, socket.send))
    try:
        await _handshake(socket)
        yield socket
    finally:
        await socket.to_app.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(task, TIMEOUT_S)
