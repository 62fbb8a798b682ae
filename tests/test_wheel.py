"""What the image installs: the wheel, into a fresh virtualenv, from the hashed runtime lock.

The Dockerfile's builder does exactly this (`pip install --require-hashes -r
requirements/runtime.txt`, then the project with `--no-deps`). Here the installed gateway is started
outside the source tree, on SQLite, and must serve the admin console from its own package data.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = ROOT / "gateway" / "console" / "static" / "index.html"
ASSET = re.compile(r'(?:src|href)="(/admin/[^"]+)"')
# What the Dockerfile's builder copies before `pip install --no-deps .`.
SOURCES = (
    "pyproject.toml",
    "README.md",
    "db",
    "gateway",
    "planner",
    "schema",
    "tenants",
    "rollout",
    "adoption",
)


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a clean copy of what the image copies (a build/ left in the
    working tree would otherwise supply files the package data does not name)."""
    assert CONSOLE.is_file(), "build the console first: npm run build --prefix console"
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."]
    run(*wheel_cmd, cwd=source)
    (found,) = out.glob("pilotgraph-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the locked runtime dependencies and the wheel; its bin/."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run(*pip, "--require-hashes", "-r", str(ROOT / "requirements" / "runtime.txt"), cwd=home)
    run(*pip, "--no-deps", str(wheel), cwd=home)
    return home / "bin"


@pytest.fixture(scope="module")
def server(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`pilotgraph serve` of the installed wheel on SQLite, run outside the source tree."""
    work = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTGRAPH_", "PYTHON"))}
    env |= {
        "PILOTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{work}/pilotgraph.db",
        "PILOTGRAPH_METRICS_PORT": "0",
    }
    run(str(installed / "pilotgraph"), "db", "upgrade", cwd=work, env=env)
    port = free_port()
    log = (work / "serve.log").open("wb")
    command = [str(installed / "pilotgraph"), "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    assert process.poll() is None, (work / "serve.log").read_text()
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_wheel_carries_the_console_migrations_and_schema(wheel: Path) -> None:
    # when the wheel's files are listed
    names = set(zipfile.ZipFile(wheel).namelist())

    # then the built console, every console asset, the migrations and the schema are in it
    built = {
        f"gateway/console/static/{p.relative_to(CONSOLE.parent).as_posix()}"
        for p in CONSOLE.parent.rglob("*")
        if p.is_file()
    }
    assert "gateway/console/static/index.html" in names
    assert built <= names
    assert "schema/schema.graphql" in names
    assert any(n.startswith("gateway/migrations/versions/") for n in names)


def test_installed_gateway_runs_from_site_packages(installed: Path) -> None:
    # when the installed interpreter locates the gateway package, outside the source tree
    where = run(
        str(installed / "python"), "-c", "import gateway; print(gateway.__file__)", cwd=installed
    )

    # then it is the wheel's copy, not the working tree
    assert "site-packages" in where
    assert str(ROOT / "gateway") not in where


def test_installed_gateway_serves_the_console_and_its_assets(server: str) -> None:
    # when the console page is fetched from the installed gateway
    page = httpx.get(f"{server}/admin/", timeout=5)
    assets = ASSET.findall(page.text)

    # then the page answers 200 with its content, and every asset it names answers 200 too
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == CONSOLE.read_text(encoding="utf-8")
    assert "/admin/assets/main.js" in assets
    for asset in assets:
        response = httpx.get(f"{server}{asset}", timeout=5)
        assert response.status_code == 200, asset
        assert response.content, asset


def test_installed_gateway_serves_every_built_asset(server: str) -> None:
    # given every file the console build wrote under assets/ (modules the page imports included)
    built = sorted(p for p in (CONSOLE.parent / "assets").rglob("*") if p.is_file())

    # when each is fetched under /admin/assets/
    answers = {
        p.relative_to(CONSOLE.parent).as_posix(): httpx.get(
            f"{server}/admin/{p.relative_to(CONSOLE.parent).as_posix()}", timeout=5
        )
        for p in built
    }

    # then each answers 200 with the built bytes
    assert built
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 200)
    assert all(r.content == (CONSOLE.parent / k).read_bytes() for k, r in answers.items())
