"""Every endpoint answers a failing database with a code, never plain text or an uncoded 500.

The cases are generated over every route of the app and the methods it accepts, crossed with
the ways a database fails (starting up, refused, pool timeout, statement timeout, SQLite locked, a
bug): the request's database access goes through an engine whose connect raises the failure, as
the driver raises it and SQLAlchemy wraps it. Then the same against a real PostgreSQL that refuses
connections or cancels a statement, and a real server process whose kept-alive connection must
survive a failed request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import socket
import sqlite3
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asyncpg import exceptions as pg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.routing import Mount, Route

from adoption import service as adoption_service
from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.app import build_state, create_app
from gateway.edge.faults import Faults
from gateway.state import GatewayState
from tenants.handbook import service as handbook_service
from tenants.types import Role
from tests import world
from tests.conftest import TokenFactory, make_settings
from tests.graphql import asgi_client

NOTICES = "{ notices { title } }"
EVENT = {
    "type": "login",
    "id": "6f1c8c8e-4c1b-4b8e-9d43-0d6f3b1f1a01",
    "timestamp": "2026-11-24T02:00:00Z",
    "deviceId": "device-1",
}
MESSAGE = {
    "SERVICE_UNAVAILABLE": "The database is unavailable; retry shortly (error id {id}).",
    "QUERY_TIMEOUT": "The query took too long and was cancelled; retry shortly (error id {id}).",
    "INTERNAL_SERVER_ERROR": "Unexpected error; quote error id {id}.",
}
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Failure:
    name: str
    make: Callable[[], BaseException]
    code: str

    @property
    def status(self) -> int:
        return 500 if self.code == "INTERNAL_SERVER_ERROR" else 503


FAILURES = [
    Failure(
        "starting-up",
        lambda: pg.CannotConnectNowError("the database system is starting up"),
        "SERVICE_UNAVAILABLE",
    ),
    Failure(
        "shutting-down",
        lambda: pg.AdminShutdownError("terminating connection"),
        "SERVICE_UNAVAILABLE",
    ),
    Failure(
        "too-many", lambda: pg.TooManyConnectionsError("too many clients"), "SERVICE_UNAVAILABLE"
    ),
    Failure(
        "refused", lambda: ConnectionRefusedError(111, "Connect call failed"), "SERVICE_UNAVAILABLE"
    ),
    Failure(
        "pool-timeout",
        lambda: sa_exc.TimeoutError("QueuePool limit reached"),
        "SERVICE_UNAVAILABLE",
    ),
    Failure(
        "statement-timeout",
        lambda: pg.QueryCanceledError("canceling statement due to statement timeout"),
        "QUERY_TIMEOUT",
    ),
    Failure(
        "sqlite-locked",
        lambda: sqlite3.OperationalError("database is locked"),
        "SERVICE_UNAVAILABLE",
    ),
    Failure("bug", lambda: RuntimeError("a bug with password=hunter2"), "INTERNAL_SERVER_ERROR"),
]


@dataclass(frozen=True)
class Call:
    """One request to a route: who sends what, and whether it must reach the database."""

    path: str
    role: Role | None = None
    json: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    database: bool = False  # the answer needs the database: it must be the failure's code
    graphql: bool = False  # an unexpected bug is a field error (200), not a 500


PREFLIGHT = {"GraphQL-Require-Preflight": "1"}
PROBES = frozenset({"/healthz", "/readyz"})
# One call per route and method; a new route without one fails test_every_route_has_a_call.
CALLS: dict[tuple[str, str], Call] = {
    ("/healthz", "GET"): Call("/healthz"),
    ("/readyz", "GET"): Call("/readyz"),
    ("/graphql", "GET"): Call(
        f"/t/{world.YEN_MO}/graphql?query={NOTICES}", Role.MEMBER, None, PREFLIGHT, True, True
    ),
    ("/graphql", "POST"): Call(
        f"/t/{world.YEN_MO}/graphql", Role.MEMBER, {"query": NOTICES}, {}, True, True
    ),
    ("/ofrep/v1/evaluate/flags", "POST"): Call(
        "/ofrep/v1/evaluate/flags", Role.MEMBER, {"context": {}}
    ),
    ("/ofrep/v1/evaluate/flags/{key:path}", "POST"): Call(
        "/ofrep/v1/evaluate/flags/handbook.notices", Role.MEMBER, {"context": {}}
    ),
    ("/v1/events", "POST"): Call("/v1/events", Role.MEMBER, [EVENT], {}, True),
    ("/v1/install-tokens", "POST"): Call(
        f"/t/{world.YEN_MO}/v1/install-tokens", None, {"deviceId": "device-1"}
    ),
    ("/v1/adoption.csv", "GET"): Call(
        f"/v1/adoption.csv?from=2026-11-01&to=2026-11-30&tenant={world.YEN_MO}",
        Role.TENANT_ADMIN,
        database=True,
    ),
    ("/admin/", "GET"): Call("/admin/"),
    ("/admin/api/session", "GET"): Call("/admin/api/session", Role.TENANT_ADMIN),
    ("/admin/api/events", "GET"): Call("/admin/api/events"),  # unauthenticated: no stream
    ("/admin/api/config", "GET"): Call("/admin/api/config"),
    ("/admin/api/oidc/token", "POST"): Call("/admin/api/oidc/token", None, {"code": "x"}),
    ("/admin/api/oidc/refresh", "POST"): Call("/admin/api/oidc/refresh", None, {"refresh": "x"}),
    ("/admin/assets", "GET"): Call("/admin/assets/missing.js"),
    ("/", "GET"): Call("/"),
    ("/assets", "GET"): Call("/assets/missing.css"),
    ("/assets/graphiql", "GET"): Call("/assets/graphiql/missing.js"),
}


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, method) the app serves over HTTP; a route that takes any method: POST."""
    for route in routes:
        if isinstance(route, Route):
            for method in sorted(route.methods or {"POST"}):
                if method != "HEAD":
                    yield prefix + route.path, method
        elif isinstance(route, Mount):
            if route.routes:
                yield from _routes(list(route.routes), prefix + route.path)
            else:
                yield prefix + route.path, "GET"


def failing_engine(failure: Failure) -> AsyncEngine:
    """An engine whose every connect raises the failure, as the driver would."""

    async def connect() -> Any:
        raise failure.make()

    if isinstance(failure.make(), sqlite3.Error):
        return create_async_engine("sqlite+aiosqlite://", async_creator=connect)
    return create_async_engine("postgresql+asyncpg://nobody@127.0.0.1/none", async_creator=connect)


@pytest.fixture
def app_routes(gateway: GatewayState) -> list[tuple[str, str]]:
    return list(_routes(create_app(gateway.settings, state=gateway).routes))


def test_every_route_has_a_call(app_routes):
    # then: the generated cases cover every route and method of the app
    assert sorted(app_routes) == sorted(CALLS)


def assert_coded(response: httpx.Response, code: str | None = None) -> None:
    """A coded JSON answer: the failure's code and generic message when ``code`` is given."""
    assert "text/plain" not in response.headers.get("content-type", "")
    if response.status_code < 400 and code is None:
        return
    body = response.json()
    if "errorCode" in body:  # OFREP's own error shape
        assert code is None
        return
    error = body["errors"][0]
    if code is None:
        assert error["extensions"]["code"]
        return
    assert error["extensions"]["code"] == code
    error_id = error["extensions"]["errorId"]
    assert re.fullmatch(r"[0-9a-f]{32}", error_id)
    assert error["message"] == MESSAGE[code].format(id=error_id)
    assert "hunter2" not in response.text


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
async def test_every_route_answers_a_failing_database_with_a_code(
    gateway: GatewayState, token: TokenFactory, failure: Failure, caplog
):
    # given: the app's database access fails on connect
    engine = failing_engine(failure)
    state = dataclasses.replace(gateway, engine=engine, sessionmaker=make_sessionmaker(engine))
    app = create_app(gateway.settings, state=state)
    try:
        for (route, method), call in sorted(CALLS.items()):
            subject = str(world.YM_MEMBER_A)
            bearer = token(call.role, tenant=world.YEN_MO, subject=subject) if call.role else None
            client = asgi_client(app, bearer, call.headers)
            # when
            async with client:
                response = await client.request(method, call.path, json=call.json)
            # then
            context = f"{method} {route} with {failure.name}: {response.text[:300]}"
            assert response.headers["x-request-id"], context  # the access log saw the answer
            if route in PROBES:  # Kubernetes reads their own JSON: {"status": ...}
                assert response.status_code in (200, 503), context
                assert response.json()["status"], context
                continue
            if not call.database:
                assert_coded(response)
                continue
            if call.graphql and failure.status == 500:
                assert response.status_code == 200, context  # a field error, as any bug
            else:
                assert response.status_code == failure.status, context
            assert_coded(response, failure.code)
            if failure.status == 503:
                assert response.headers["retry-after"] == "5", context
    finally:
        await engine.dispose()


TRACK = "mutation ($events: [EventInput!]!) { trackEvents(events: $events) { accepted } }"


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
async def test_a_mutation_answers_a_failing_database_with_a_code(
    gateway: GatewayState, token: TokenFactory, failure: Failure
):
    # given: a member recording events while the database fails
    engine = failing_engine(failure)
    state = dataclasses.replace(gateway, engine=engine, sessionmaker=make_sessionmaker(engine))
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    try:
        async with asgi_client(create_app(gateway.settings, state=state), member) as client:
            # when
            response = await client.post(
                f"/t/{world.YEN_MO}/graphql",
                json={"query": TRACK, "variables": {"events": [EVENT]}},
            )
    finally:
        await engine.dispose()
    # then
    assert response.status_code == (200 if failure.status == 500 else 503), response.text
    assert response.json()["data"] is None
    assert_coded(response, failure.code)
    if failure.status == 503:
        assert response.headers["retry-after"] == "5"


async def test_an_event_batch_answered_503_is_stored_once_when_resent(
    client_for: Any, token: TokenFactory, monkeypatch
):
    # given: the database drops after the batch was written, before it was committed
    original = adoption_service.ingest

    async def dropped(**kwargs: Any) -> Any:
        await original(**kwargs)
        raise ConnectionResetError(104, "Connection reset by peer")

    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    client = client_for(member)
    batch = [{**EVENT, "id": "0b5e7c1e-2f7a-4c35-9c59-5a3c2d1e0f11"}]
    monkeypatch.setattr(adoption_service, "ingest", dropped)
    # when: the client sends it, gets 503, and sends it again once the database is back
    failed = await client.post("/v1/events", json=batch)
    monkeypatch.setattr(adoption_service, "ingest", original)
    resent = await client.post("/v1/events", json=batch)
    again = await client.post("/v1/events", json=batch)
    # then: nothing was acknowledged by the 503, and the resend counts once
    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "5"
    assert_coded(failed, "SERVICE_UNAVAILABLE")
    assert (resent.status_code, resent.json()["stored"]) == (200, 1)
    assert (again.status_code, again.json()["stored"]) == (200, 0)
    assert again.json()["results"] == [{"index": 0, "status": "duplicate"}]


# --- a real PostgreSQL -------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def real_postgres_app(
    database: Any, url: str | None = None, statement_timeout_ms: int = 10_000
) -> AsyncIterator[tuple[httpx.AsyncClient, GatewayState]]:
    """The app with an engine of its own (no test transaction), on ``url`` once started."""
    if database.backend != "postgresql":
        pytest.skip("a real PostgreSQL refuses or cancels")
    settings = make_settings(database, database_connect_timeout_s=2.0)
    state = build_state(settings)
    await state.registry.reload(state.sessionmaker)  # started while the database answered
    await state.engine.dispose()
    state.engine = make_engine(
        url or database.app_url, connect_timeout_s=2.0, statement_timeout_ms=statement_timeout_ms
    )
    state.sessionmaker = make_sessionmaker(state.engine)
    app = create_app(settings, state=state)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield client, state
    finally:
        await client.aclose()
        await state.engine.dispose()


async def test_a_refusing_postgresql_answers_503_everywhere(database, token):
    # given: nothing listens where the app's engine connects
    refused = re.sub(r"@[^/]+/", f"@127.0.0.1:{_closed_port()}/", database.app_url)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    headers = {"Authorization": f"Bearer {member}"}
    async with real_postgres_app(database, refused) as (client, _state):
        # when
        graphql = await client.post(
            f"/t/{world.YEN_MO}/graphql", json={"query": NOTICES}, headers=headers
        )
        events = await client.post("/v1/events", json=[EVENT], headers=headers)
        ofrep = await client.post(
            "/ofrep/v1/evaluate/flags/handbook.notices", json={"context": {}}, headers=headers
        )
    # then
    for response in (graphql, events):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert_coded(response, "SERVICE_UNAVAILABLE")
    # flags are served from the last snapshot when they can be; a failure is coded all the same
    if ofrep.status_code >= 500:
        assert (ofrep.status_code, ofrep.headers["retry-after"]) == (503, "5")
        assert_coded(ofrep, "SERVICE_UNAVAILABLE")
    else:
        assert ofrep.status_code == 200


async def test_a_real_statement_timeout_answers_query_timeout(database, token, monkeypatch):
    # given: a statement timeout of 50 ms and reads that take longer
    original_notices, original_ingest = handbook_service.list_notices, adoption_service.ingest

    async def slow_notices(**kwargs: Any) -> Any:
        await kwargs["session"].execute(text("SELECT pg_sleep(1)"))
        return await original_notices(**kwargs)

    async def slow_ingest(**kwargs: Any) -> Any:
        await kwargs["session"].execute(text("SELECT pg_sleep(1)"))
        return await original_ingest(**kwargs)

    monkeypatch.setattr(handbook_service, "list_notices", slow_notices)
    monkeypatch.setattr(adoption_service, "ingest", slow_ingest)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    headers = {"Authorization": f"Bearer {member}"}
    async with real_postgres_app(database, statement_timeout_ms=50) as (client, _state):
        # when
        graphql = await client.post(
            f"/t/{world.YEN_MO}/graphql", json={"query": NOTICES}, headers=headers
        )
        events = await client.post("/v1/events", json=[EVENT], headers=headers)
    # then
    for response in (graphql, events):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert_coded(response, "QUERY_TIMEOUT")
    assert graphql.json()["data"] is None  # notices is non-null: the error reaches the root


# --- a real server process, one kept-alive connection -------------------------------------------

FAULTY_APP = textwrap.dedent(
    '''
    """The gateway as served, plus two routes that fail: before and after answering."""
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from gateway.app import serve_app


    async def boom(_request):
        raise RuntimeError("a bug with password=hunter2")


    async def half(_request):
        async def body():
            yield b"partial"
            raise RuntimeError("failed while streaming")

        return StreamingResponse(body(), media_type="text/plain")


    def app():
        served = serve_app()
        boom_route = Route("/v1/boom", boom, methods=["POST"])
        served.router.routes[:0] = [boom_route, Route("/v1/half", half)]
        return served
    '''
)


@contextlib.asynccontextmanager
async def serving(database_url: str, directory: Path) -> AsyncIterator[str]:
    """``uvicorn`` in a process of its own on a free port; yields its base URL once it answers."""
    (directory / "faulty_app.py").write_text(FAULTY_APP)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PILOTGRAPH_DATABASE_URL": database_url,
        "PILOTGRAPH_DATABASE_CONNECT_TIMEOUT_S": "2",
        "PYTHONPATH": os.pathsep.join([str(directory), str(ROOT)]),
    }
    with (directory / "server.log").open("wb") as log:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "uvicorn", "faulty_app:app", "--factory", "--port", str(port)),
            env=env,
            stdout=log,
            stderr=log,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as probe:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the gateway process did not come up")
        yield base_url
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


async def test_a_failed_request_leaves_the_connection_usable(database, token, tmp_path):
    # given: a gateway process and one kept-alive client
    if database.backend != "postgresql":
        pytest.skip("one server process is enough")
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    async with serving(database.app_url, tmp_path) as base_url:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=base_url, limits=limits) as client:
            first = await client.get("/healthz")
            # when: a handler raises, then the next request goes on the same connection
            boom = await client.post("/v1/boom", json={})
            after = await client.get("/healthz")
            ports = {_local_port(first), _local_port(boom), _local_port(after)}
            # when: a handler fails after its answer started: that connection cannot be saved
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/v1/half")
            recovered = await client.post(
                f"/t/{world.YEN_MO}/graphql",
                json={"query": NOTICES},
                headers={"Authorization": f"Bearer {member}"},
            )
    # then
    assert first.status_code == 200
    assert boom.status_code == 500
    assert "connection" not in boom.headers
    assert boom.headers["content-type"] == "application/json"
    assert_coded(boom, "INTERNAL_SERVER_ERROR")
    assert after.status_code == 200
    assert len(ports) == 1  # one connection carried all three
    log = (tmp_path / "server.log").read_text()
    error_id = boom.json()["errors"][0]["extensions"]["errorId"]
    assert log.count(error_id) == 1  # logged once, with its stack trace
    assert "RuntimeError: a bug with password=hunter2" in log
    assert "Exception in ASGI application" not in log  # never reached the server
    assert recovered.status_code == 200
    assert recovered.json()["data"]["notices"]


async def test_websocket_and_lifespan_scopes_pass_through():
    # given: an app that fails on anything but HTTP
    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        raise RuntimeError(scope["type"])

    faults = Faults(app)
    for kind in ("websocket", "lifespan"):
        # when / then: the failure is the server's to handle, as before
        with pytest.raises(RuntimeError, match=kind):
            await faults({"type": kind}, _never, _never)


async def _never(*_args: Any) -> Any:
    raise AssertionError("not called")
