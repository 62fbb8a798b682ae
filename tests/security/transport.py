"""Sending attempts in process: HTTP through httpx's ASGI transport, WebSocket by a small driver.

The WebSocket driver speaks graphql-transport-ws to the ASGI app on the test's own event loop,
so the app's database engine is used as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.security.checks import Answer

ATTEMPTS: Counter[str] = Counter()  # per transport, for the session's summary
WS_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    body: Any = None  # JSON for POST
    params: dict[str, str] = field(default_factory=dict, hash=False)

    def sent(self) -> str:
        """Everything the caller sent: data echoed from it is no leak."""
        return json.dumps([self.path, self.headers, self.body, self.params], ensure_ascii=False)

    def describe(self) -> str:
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        shown = json.dumps(self.body, ensure_ascii=False) if self.body is not None else ""
        query = f"?{httpx.QueryParams(self.params)}" if self.params else ""
        return f"{self.method} {self.path}{query} {headers or ''} {shown[:300]}".strip()


def _parsed(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


async def send(client: httpx.AsyncClient, request: Request) -> Answer:
    """One HTTP attempt."""
    ATTEMPTS["http"] += 1
    response = await client.request(
        request.method,
        request.path,
        headers=request.headers,
        json=request.body,
        params=request.params or None,
    )
    return Answer(response.status_code, _parsed(response))


class Socket:
    """One graphql-transport-ws connection to an ASGI app."""

    def __init__(self, app: Any, path: str, headers: dict[str, str]) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": ["graphql-transport-ws"],
            "state": {},
            "extensions": {"websocket.http.response": {}},
        }
        self.task = asyncio.create_task(app(scope, self.inbox.get, self.outbox.put))

    async def _next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.outbox.get(), WS_TIMEOUT_S)

    async def open(self) -> Answer | None:
        """None once acknowledged; else the refusal as an answer."""
        await self.inbox.put({"type": "websocket.connect"})
        first = await self._next()
        if first["type"] == "websocket.http.response.start":
            body = await self._next()
            return Answer(first["status"], json.loads(body.get("body") or b"null"), "ws")
        if first["type"] == "websocket.close":
            return Answer(first.get("code", 1000), {"close": first.get("code")}, "ws")
        await self._text({"type": "connection_init"})
        ack = await self._message()
        if ack.get("type") != "connection_ack":
            return Answer(400, ack, "ws")
        return None

    async def _text(self, message: dict[str, Any]) -> None:
        await self.inbox.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def _message(self) -> dict[str, Any]:
        while True:
            event = await self._next()
            if event["type"] == "websocket.send":
                return json.loads(event["text"])
            if event["type"] == "websocket.close":
                return {"type": "close", "code": event.get("code")}

    async def run(self, query: str) -> Answer:
        """Send one operation; its first result (a subscription is then completed)."""
        ATTEMPTS["ws"] += 1
        op = uuid.uuid4().hex
        await self._text({"id": op, "type": "subscribe", "payload": {"query": query}})
        message = await self._reply(op)
        if message.get("type") == "next":
            await self._text({"id": op, "type": "complete"})
            return Answer(200, message.get("payload"), "ws")
        if message.get("type") == "error":
            return Answer(200, {"errors": message.get("payload")}, "ws")
        return Answer(400, message, "ws")

    async def _reply(self, op: str) -> dict[str, Any]:
        """The next message about ``op`` (a ping is answered, others' completions skipped)."""
        while True:
            message = await self._message()
            if message.get("type") == "ping":
                await self._text({"type": "pong"})
            elif message.get("id") in (None, op):
                return message

    async def close(self) -> None:
        await self.inbox.put({"type": "websocket.disconnect", "code": 1000})
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, WS_TIMEOUT_S)
        if not self.task.done():
            self.task.cancel()


def _http_scope(request: Request, body: bytes) -> dict[str, Any]:
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    headers += [(b"host", b"testserver"), (b"content-length", str(len(body)).encode())]
    if request.body is not None:
        headers.append((b"content-type", b"application/json"))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "root_path": "",
        "headers": headers,
        "query_string": str(httpx.QueryParams(request.params)).encode(),
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def send_streamed(app: Any, request: Request, linger_s: float = 0.1) -> Answer:
    """One HTTP attempt straight to the ASGI app; a stream (SSE) is read for ``linger_s``."""
    ATTEMPTS["http"] += 1
    body = b"" if request.body is None else json.dumps(request.body).encode()
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    done, gone = asyncio.Event(), asyncio.Event()
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send_message(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    task = asyncio.create_task(app(_http_scope(request, body), receive, send_message))
    await _until_answered(task, done, start, linger_s)
    gone.set()
    failed = task.done() and not task.cancelled() and task.exception() is not None
    status = start.get("status", 500 if failed else 0)
    return Answer(status, _decoded_body(b"".join(chunks)))


async def _until_answered(
    task: asyncio.Task[Any], done: asyncio.Event, start: dict[str, Any], linger_s: float
) -> None:
    for _ in range(int(WS_TIMEOUT_S / linger_s)):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(done.wait()), linger_s)
        if done.is_set() or start or task.done():
            break
    if not task.done():
        task.cancel()
    with contextlib.suppress(BaseException):
        await task


def _decoded_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
