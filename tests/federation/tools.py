"""Running the federation's parts from tests: the subgraph's own virtualenv, node, free ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
FEDERATION = ROOT / "federation"
SUBGRAPH = ROOT / "subgraphs" / "member_development"
SUBGRAPH_PYTHON = SUBGRAPH / ".venv" / "bin" / "python"
HIVE_GATEWAY = FEDERATION / "node_modules" / ".bin" / "hive-gateway"
COMPOSITION = FEDERATION / "node_modules" / "@apollo" / "composition"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_toolchain() -> None:
    """Skip locally, fail in CI, when ``make federation-deps`` has not run."""
    missing = [
        str(p.relative_to(ROOT))
        for p in (SUBGRAPH_PYTHON, HIVE_GATEWAY, COMPOSITION)
        if not p.exists()
    ]
    if missing:
        reason = f"federation toolchain missing ({', '.join(missing)}): run `make federation-deps`"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


def member_development_sdl() -> str:
    """The subgraph's SDL, printed by its own virtualenv (graphql-core 3.2)."""
    return subprocess.run(
        [str(SUBGRAPH_PYTHON), "-m", "member_development", "sdl"],
        cwd=SUBGRAPH,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


@dataclass(frozen=True)
class Composition:
    returncode: int
    errors: list[dict[str, str]]
    hints: list[dict[str, str]]


def compose(out: Path, subgraphs: dict[str, tuple[str, Path]]) -> Composition:
    """Compose ``{name: (url, sdl_path)}`` with @apollo/composition into ``out``."""
    args = [f"{name}={url}={path}" for name, (url, path) in subgraphs.items()]
    done = subprocess.run(
        ["node", "compose.mjs", "--out", str(out), *args],
        cwd=FEDERATION,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stdout)
    return Composition(done.returncode, report["errors"], report["hints"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    """Poll ``url`` until it answers 200; fail with the process's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{url} did not come up in {timeout}s:\n{log.read_text()[-3000:]}")


def start(args: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process this test started, by its own id."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
