"""A live gateway (uvicorn in a subprocess) on a fresh SQLite demo province, and Chromium.

Every browser test of the console shares one gateway and one database, loaded once per run
with ``pilotgraph db upgrade`` and ``pilotgraph demo load``; the tests of ``test_console.py``
tell one story in order (sign in, advance, approve), so they are not independent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.console.routes import DIST
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "pilotgraph"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts" / "console"
SECOND_ADMIN = "00000000-0000-4000-8000-00000000a002"


STORY = "test_console.py"  # starts from the fresh demo: runs before the other console modules


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The console's tests with ``test_console.py`` first, each module's order kept.

    Its story reads the demo as loaded (wave 1 at 100%, the default admin's audit rows only its
    own); every other module brings the shared plan where it needs it, whatever ran before, so
    a module whose name sorts before it (``test_approvals.py``) must still run after it. The
    tests of other folders keep their places.
    """
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if item.path.parent == here]
    ordered = sorted((items[i] for i in slots), key=lambda item: item.path.name != STORY)
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item


def _require_browser() -> Any:
    missing = not Path(CHROMIUM).exists() or not (DIST / "index.html").is_file()
    reason = "browser tests need /usr/bin/chromium and a built console (make test)"
    if missing and IN_CI:
        pytest.fail(f"in CI the {reason}")
    if missing:
        pytest.skip(reason)
    return pytest.importorskip("playwright.async_api")


@dataclass(frozen=True)
class LiveGateway:
    url: str
    env: dict[str, str]

    def token(self, *args: str) -> str:
        """A development token from ``pilotgraph token ARGS`` against this gateway's database."""
        out = subprocess.run(
            [str(CLI), "token", *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def graphql(self, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the gateway exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the gateway did not answer /healthz within 60 s")


@contextlib.contextmanager
def serve(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """``pilotgraph serve`` on a free loopback port with ``env``; yields its base URL."""
    port = _free_port()
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, server)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def live_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    """A gateway on a free loopback port over a fresh demo database."""
    _require_browser()
    folder = tmp_path_factory.mktemp("console")
    env = {
        **os.environ,
        "PILOTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'console.db'}",
        "PILOTGRAPH_ENVIRONMENT": "development",
    }
    template = os.environ.get("PILOTGRAPH_CONSOLE_TEMPLATE_DB")
    if template:  # a demo database loaded before, copied: reruns skip the minute of demo load
        shutil.copyfile(template, folder / "console.db")
    commands = [["db", "upgrade"]] + ([] if template else [["demo", "load"]])
    for command in commands:
        subprocess.run([str(CLI), *command], env=env, cwd=ROOT, check=True, capture_output=True)
    with serve(env, folder / "gateway.log") as url:
        yield LiveGateway(url=url, env=env)


@pytest.fixture(scope="module")
def admin_token(live_gateway: LiveGateway) -> str:
    return live_gateway.token("--role", "province_admin")


@pytest.fixture(scope="module")
def auditor_token(live_gateway: LiveGateway) -> str:
    return live_gateway.token("--role", "auditor")


async def sign_in(page: Any, token: str, view: str = "province") -> None:
    """Open the console at ``view`` in English and sign in with ``token``."""
    await page.goto(f"/admin/#/{view}")
    await page.locator("#lang").select_option("en")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Sign in").click()


async def filter_audit(page: Any, fields: dict[str, str]) -> None:
    """Set the audit view's filters by label ("Action" is chosen from its list), ask, and wait
    for the rows the server gives."""
    for label, value in fields.items():
        field = page.get_by_label(label, exact=True)
        await (field.select_option(value) if label == "Action" else field.fill(value))
    await page.get_by_role("button", name="Filter").click()
    await page.locator("#audit-results:not([aria-busy])").wait_for()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    async with _require_browser().async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def new_page(browser: Any, live_gateway: LiveGateway) -> AsyncIterator[Any]:
    """``await new_page()`` → a page in its own browser context (its own session storage)."""
    contexts: list[Any] = []

    async def make() -> Any:
        context = await browser.new_context(
            base_url=live_gateway.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
        )
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(60_000)  # the machine is shared; the gate read takes seconds
        return page

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture(scope="session")
def screenshot() -> Any:
    """``await screenshot(page, "name")`` saves tests/artifacts/console/name.png for review."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async def take(page: Any, name: str) -> None:
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take
