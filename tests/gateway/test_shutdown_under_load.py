"""SIGTERM under load: `pilotgraph serve` exits within a stated bound even while every request
waits on the database.

The requests are made to wait by a table lock held from a superuser connection; the database
itself keeps running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from gateway.app import STOP_TIMEOUT_S
from tenants.types import Role
from tests import databases, world
from tests.gateway.test_edge_http_audit import _free_port

GRACE_S = 2
# uvicorn's grace, then each stop step of the lifespan at most STOP_TIMEOUT_S (they are quick
# when the database answers), then the interpreter's exit.
BOUND_S = GRACE_S + STOP_TIMEOUT_S + 3.0
CLIENTS = 40
NOTICES = {"query": "{ notices { title } }"}


def _serve(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PILOTGRAPH_DATABASE_URL": database_url,
        "PILOTGRAPH_LOG_LEVEL": "warning",
        "PILOTGRAPH_SHUTDOWN_TIMEOUT_S": str(GRACE_S),
        "PILOTGRAPH_MAX_IN_FLIGHT": str(CLIENTS),  # every request is admitted, and waits
    }
    cli = Path(sys.executable).with_name("pilotgraph")
    argv = [str(cli), "serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


async def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        for _ in range(150):
            if process.poll() is not None:
                break
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    process.kill()
    pytest.fail(f"the server did not start:\n{await asyncio.to_thread(log.read_text)}")


async def test_sigterm_while_every_request_waits_on_the_database_exits_within_the_bound(
    database, token, tmp_path
):
    if database.backend != "postgresql":
        pytest.skip("the requests are held by a PostgreSQL table lock")
    # given: a server with two workers, and the notices table locked
    port, log = _free_port(), tmp_path / "server.log"
    process = _serve(database.app_url, port, log)
    locker = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database=database.name)
    headers = {"Authorization": f"Bearer {token(Role.MEMBER, tenant=world.YEN_MO)}"}
    limits = httpx.Limits(max_connections=CLIENTS)
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30, limits=limits
    )
    try:
        await _wait_ready(port, process, log)
        await locker.execute("BEGIN; LOCK TABLE notices IN ACCESS EXCLUSIVE MODE")
        requests = [
            asyncio.create_task(client.post("/graphql", json=NOTICES)) for _ in range(CLIENTS)
        ]
        await asyncio.sleep(1.0)  # every request now waits on the lock
        pending = sum(not r.done() for r in requests)
        # when
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        exit_code = await asyncio.to_thread(process.wait, BOUND_S + 10)
        elapsed = time.monotonic() - started
        answers = await asyncio.gather(*requests, return_exceptions=True)
    finally:
        await client.aclose()
        await locker.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    # then: out within the bound; each client got an answer or a closed connection, none hangs
    assert pending == CLIENTS
    assert elapsed < BOUND_S
    assert exit_code in (0, -signal.SIGTERM)
    for answer in answers:
        if isinstance(answer, httpx.Response):
            assert answer.status_code in (200, 503)
        else:
            assert isinstance(answer, httpx.TransportError)
