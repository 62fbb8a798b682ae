"""When the database fails mid-request: 503 in bounded time, /readyz unready, recovery.

PostgreSQL only: the gateway reaches it through a TCP proxy the test cuts and restores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from gateway.app import build_state, create_app
from gateway.edge.documents import RETRY_AFTER_S
from tenants.handbook import service
from tenants.types import Role
from tests import world
from tests.conftest import make_settings

NOTICES = {"query": "{ notices { title } }"}
BOUNDED_S = 10.0


class Proxy:
    """A TCP proxy to PostgreSQL that can drop every connection and refuse new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65_536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self.writers.discard(writer)


@pytest.fixture
async def proxied(database) -> AsyncIterator[tuple[Proxy, httpx.AsyncClient, str]]:
    """A gateway (own engine, no test transaction) whose database goes through a proxy."""
    if database.backend != "postgresql":
        pytest.skip("the database-failure test cuts a PostgreSQL connection")
    proxy = Proxy("127.0.0.1", 5432)
    await proxy.start()
    url = database.app_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    settings = make_settings(database, database_connect_timeout_s=2.0)
    settings = settings.model_copy(update={"database_url": type(settings.database_url)(url)})
    state = build_state(settings)
    await state.registry.reload(state.sessionmaker)
    app = create_app(settings, state=state)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield proxy, client, settings.hs256_secret or ""
    finally:
        await client.aclose()
        await state.engine.dispose()
        if proxy.server is not None:
            proxy.server.close()


async def test_a_connection_cut_mid_request_answers_503_then_service_recovers(
    proxied, token, monkeypatch
):
    # given: a member reading notices; the database drops while the request runs
    proxy, client, _ = proxied
    headers = {"Authorization": f"Bearer {token(Role.MEMBER, tenant=world.YEN_MO)}"}
    before = await client.post("/graphql", json=NOTICES, headers=headers)
    original = service.list_notices

    async def cut_midway(**kwargs):
        await kwargs["session"].execute(text("SELECT 1"))
        await proxy.cut()
        return await original(**kwargs)

    monkeypatch.setattr(service, "list_notices", cut_midway)
    # when
    started = time.monotonic()
    during = await client.post("/graphql", json=NOTICES, headers=headers)
    elapsed = time.monotonic() - started
    monkeypatch.setattr(service, "list_notices", original)
    still_down = await client.post("/graphql", json=NOTICES, headers=headers)
    unready, live = await client.get("/readyz"), await client.get("/healthz")
    await proxy.start()  # the database comes back on the same address
    after = await client.post("/graphql", json=NOTICES, headers=headers)
    ready = await client.get("/readyz")
    # then
    assert before.status_code == 200
    assert before.json()["data"]["notices"]
    for response in (during, still_down):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        error_id = error["extensions"]["errorId"]
        assert error["message"] == (
            f"The database is unavailable; retry shortly (error id {error_id})."
        )
    assert elapsed < BOUNDED_S
    assert unready.status_code == 503
    assert unready.json()["status"] == "unready"
    assert unready.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert unready.headers["retry-after"] == RETRY_AFTER_S
    assert live.status_code == 200
    assert after.status_code == 200
    assert after.json() == before.json()
    assert ready.status_code == 200


async def test_a_request_over_the_time_limit_answers_503(edge_client, token, monkeypatch):
    # given: the notices take longer than the request may
    async def stuck(**_kwargs):
        await asyncio.sleep(30)

    monkeypatch.setattr(service, "list_notices", stuck)
    client = edge_client(token(Role.MEMBER, tenant=world.YEN_MO), request_timeout_s=0.3)
    # when
    started = time.monotonic()
    response = await client.post("/graphql", json=NOTICES)
    elapsed = time.monotonic() - started
    # then
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "errors": [
            {
                "message": "The request took too long; retry shortly.",
                "extensions": {"code": "SERVICE_UNAVAILABLE"},
            }
        ]
    }
    assert elapsed < 5
