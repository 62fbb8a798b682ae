"""`make run`'s path on a fresh SQLite file: migrate, load the demo, serve, query over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent
HOME_QUERY = "{ me { fullName branch { name } } meetings { title } tenant { memberCount } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "pilotgraph"), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGRAPH_")}
    env["PILOTGRAPH_DATABASE_URL"] = f"sqlite+aiosqlite:///{directory}/demo.db"
    _cli(env, "db", "upgrade")
    _cli(env, "demo", "load", "--if-empty")
    port = _free_port()
    log = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "pilotgraph"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield base, env
    server.terminate()
    server.wait(timeout=20)
    log.close()


@pytest.mark.slow
def test_yen_mo_member_sees_own_branch_and_is_refused_kim_son(demo_server):
    # given
    base, env = demo_server
    token = _cli(env, "token", "--tenant", "yen-mo", "--role", "member")
    headers = {"Authorization": f"Bearer {token}"}
    # when
    home = httpx.post(f"{base}/graphql", json={"query": HOME_QUERY}, headers=headers)
    refused = httpx.post(f"{base}/t/kim-son/graphql", json={"query": HOME_QUERY}, headers=headers)
    # then
    assert home.status_code == 200
    data = home.json()["data"]
    assert data["me"]["branch"]["name"].startswith("Chi bộ")
    assert data["tenant"]["memberCount"] == 6_014
    assert len(data["meetings"]) >= 1
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN_TENANT"


@pytest.mark.slow
def test_province_admin_reads_every_tenant(demo_server):
    # given
    base, env = demo_server
    token = _cli(env, "token", "--role", "province_admin")
    headers = {"Authorization": f"Bearer {token}"}
    # when
    counts = {
        slug: httpx.post(
            f"{base}/t/{slug}/graphql",
            headers=headers,
            json={"query": "{ tenant { memberCount } }"},
        ).json()
        for slug in ("yen-mo", "kim-son", "police")
    }
    # then
    assert {slug: c["data"]["tenant"]["memberCount"] for slug, c in counts.items()} == {
        "yen-mo": 6_014,
        "kim-son": 9_300,
        "police": 3_200,
    }
