"""The graphql-http reference audit (npm ``graphql-http``) against a live uvicorn server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.conftest import IN_CI

AUDIT = Path(__file__).resolve().parents[2] / "tools" / "graphql-http-audit"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _node_ready() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if IN_CI:
            pytest.fail("Node and npm are required in CI for the graphql-http audit")
        pytest.skip("Node/npm not installed")
    if not (AUDIT / "node_modules" / "graphql-http").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=AUDIT,
            check=True,
            capture_output=True,
            timeout=300,
        )


@pytest.fixture
def live_server(database: databases.TestDatabase, tmp_path: Path) -> Iterator[str]:
    """uvicorn serving the gateway over the test database; yields the /graphql URL."""
    port = _free_port()
    env = {
        **os.environ,
        "PILOTGRAPH_DATABASE_URL": database.app_url,
        "PILOTGRAPH_ENVIRONMENT": "development",
    }
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "gateway.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                output = (tmp_path / "server.log").read_text()
                pytest.fail(f"the server did not start:\n{output}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_graphql_http_audit_has_no_must_errors_or_should_warnings(live_server):
    # given
    _node_ready()
    # when
    run = subprocess.run(
        ["node", "audit.mjs", live_server],
        cwd=AUDIT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # then
    assert run.stdout, run.stderr
    report = json.loads(run.stdout)
    failures = [r for r in report["results"] if r["status"] in ("error", "warn")]
    assert failures == [], json.dumps(report, indent=2)
    assert report["counts"]["error"] == 0
    assert report["counts"]["warn"] == 0
    assert report["counts"]["ok"] >= 50
    assert run.returncode == 0
