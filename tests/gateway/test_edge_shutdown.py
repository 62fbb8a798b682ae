"""Graceful shutdown: on SIGTERM, `pilotgraph serve` finishes the request in flight."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway.test_edge_http_audit import _free_port

TYPENAME = json.dumps({"query": "{ __typename }"}).encode()


def _start(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PILOTGRAPH_DATABASE_URL": database_url, "PILOTGRAPH_LOG_LEVEL": "warning"}
    cli = Path(sys.executable).with_name("pilotgraph")
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(cli), "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _wait_live(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"the server did not start:\n{log.read_text()}")


def test_sigterm_lets_the_request_in_flight_finish(database, tmp_path):
    # given: a server, and a client halfway through sending its request
    if database.backend != "sqlite":
        pytest.skip("shutdown does not depend on the database; run once")
    port, log = _free_port(), tmp_path / "server.log"
    process = _start(database.app_url, port, log)
    try:
        _wait_live(port, process, log)
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(TYPENAME)}\r\n\r\n"
        ).encode()
        client.sendall(head + TYPENAME[:5])
        time.sleep(0.5)
        # when: the pod is told to stop, then the client finishes
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        still_running = process.poll() is None
        client.sendall(TYPENAME[5:])
        answer = b""
        while chunk := client.recv(65_536):
            answer += chunk
        client.close()
        exit_code = process.wait(timeout=25)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # then
    assert still_running
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert rest.split(b"\r\n\r\n", 1)[1] == b'{"data": {"__typename": "Query"}}'
    # uvicorn re-raises the signal once shut down, so the exit looks like SIGTERM's
    assert exit_code in (0, -signal.SIGTERM)
