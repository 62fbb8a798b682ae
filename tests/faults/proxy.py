"""A TCP proxy that cuts the network silently: nothing is closed, nothing gets through.

During a cut the proxy stops reading from either side and opens no upstream connection for
new clients, as a partition does: connections stay open, peers see no answer and no reset.
When the network heals, new connections go through again and the held ones either resume
(TCP retransmitted everything: ``cut``) or stay silent forever (a NAT or firewall between
them lost its state: ``cut(forever=True)``). Only a bound on waiting (a command or connect
timeout) lets a peer notice; TCP keepalives do not, since the proxy's own sockets stay alive.

The proxy runs its own event loop in a thread, so the load the test drives cannot slow it down.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

CHUNK = 65_536


@dataclass(eq=False)
class _Link:
    """One client connection and its upstream: forwarding while ``flowing`` is set."""

    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    severed: bool = False


class BlackholeProxy:
    """``start()`` → ``port``; ``cut()`` / ``heal()`` from any thread; ``close()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._accepting: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> int:
        self._thread.start()
        self._call(self._start())
        return self.port

    def cut(self, *, forever: bool = False) -> None:
        """Stop forwarding, closing nothing; with ``forever`` today's connections never resume."""
        self._call(self._cut(forever))

    def heal(self) -> None:
        """Forward again: new connections, and the held ones unless cut forever."""
        self._call(self._heal())

    def close(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._call(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _start(self) -> None:
        self._accepting = asyncio.Event()
        self._accepting.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self, forever: bool) -> None:
        assert self._accepting is not None
        self._accepting.clear()
        for link in self._links:
            link.flowing.clear()
            link.severed = link.severed or forever

    async def _heal(self) -> None:
        assert self._accepting is not None
        self._accepting.set()
        for link in self._links:
            if not link.severed:
                link.flowing.set()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task: Any = asyncio.current_task()
        assert self._accepting is not None
        self._tasks.add(task)
        link = _Link()
        try:
            await self._accepting.wait()  # a connection attempt during a cut waits for the heal
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except (OSError, asyncio.CancelledError):
            writer.transport.abort()
            self._tasks.discard(task)
            return
        link.flowing.set()
        self._links.add(link)
        try:
            await asyncio.gather(
                self._pipe(link, reader, up_writer), self._pipe(link, up_reader, writer)
            )
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            up_writer.transport.abort()
            self._links.discard(link)
            self._tasks.discard(task)

    async def _pipe(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            await link.flowing.wait()
            data = await reader.read(CHUNK)
            if not data:
                break
            await link.flowing.wait()
            writer.write(data)
            await writer.drain()
        writer.transport.abort()
