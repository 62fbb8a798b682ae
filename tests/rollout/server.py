"""A second gateway process (``pilotgraph serve``) on a test database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for(predicate, timeout_s: float = 5.0) -> bool:
    """Poll an async predicate every 10 ms until it holds or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.01)
    return False


@contextlib.asynccontextmanager
async def running_gateway(database_url: str) -> AsyncIterator[str]:
    """Start a gateway process on ``database_url``; yields its base URL once it answers."""
    port = _free_port()
    env = {**os.environ, "PILOTGRAPH_DATABASE_URL": database_url}
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "pilotgraph"),
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as client:

            async def up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            if not await wait_for(up, timeout_s=30):
                raise RuntimeError("the second gateway did not come up")
        yield base_url
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)
