"""Malformed input never reaches a 500: every refusal is coded, and the server stays healthy.

The generator (tests/faults/badinput) builds its requests from ``app.routes`` and the schema:
every endpoint with every method, malformed and deep JSON, wrong content types, unstorable text
in every string position, wrong types for every variable of every operation, garbage tokens and
headers, hypothesis-generated JSON. It runs against the in-process app on both backends and, a
smaller sample, against a real ``pilotgraph serve`` process. The cases it found are pinned below.
"""

from __future__ import annotations

import json
import os

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.app import create_app
from gateway.console import routes as console_routes
from tenants.db import make_engine, make_sessionmaker
from tenants.types import Role
from tests import databases, world
from tests.faults.badinput.asgi import EndEventStreams
from tests.faults.badinput.checks import Probe, report
from tests.faults.badinput.fuzz import fuzz
from tests.faults.badinput.generate import probes
from tests.faults.badinput.routes import endpoints
from tests.faults.badinput.run import Tally, run, sample
from tests.gateway.test_edge_http_audit import _free_port
from tests.gateway.test_edge_shutdown import _start, _wait_live
from tests.graphql import asgi_client

# Per backend. The full set (about 15,000 per backend) runs with BADINPUT_SAMPLE=100000; the
# sample keeps the first probe of every kind and of every (method, path), then fills at random.
ASGI_SAMPLE = int(os.environ.get("BADINPUT_SAMPLE", "6000"))
PROCESS_SAMPLE = 600
HYPOTHESIS_EXAMPLES = 40
MEMBERS_TOTAL = '{"data": {"members": {"totalCount": 5}}}'


def principals(token) -> dict[str, str | None]:
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    return {
        "anonymous": None,
        "member": f"Bearer {member}",
        "admin": f"Bearer {token(Role.TENANT_ADMIN, tenant=world.YEN_MO)}",
        "province": f"Bearer {token(Role.PROVINCE_ADMIN)}",
    }


@pytest.fixture
def built_console(tmp_path, monkeypatch):
    """A console build, so its page and assets answer as deployed (no CONSOLE_NOT_BUILT 503)."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    (dist / "assets" / "probe.js").write_text("export {};")
    monkeypatch.setattr(console_routes, "DIST", dist)


async def _members_total(client: httpx.AsyncClient) -> tuple[int, str]:
    response = await client.post("/graphql", json={"query": "{ members { totalCount } }"})
    return response.status_code, json.dumps(response.json())


async def test_generated_bad_input_gets_only_coded_answers(
    gateway, token, database, app_engine, built_console
):
    # given
    app = create_app(gateway.settings, state=gateway)
    callers = principals(token)
    every = probes(app.routes, callers)
    chosen = sample(every, ASGI_SAMPLE)
    checked_out = app_engine.pool.checkedout()  # the test's own transaction holds one
    # when
    async with asgi_client(EndEventStreams(app)) as client:
        tally = await run(client, chosen, Tally())
        auth = (("authorization", str(callers["member"])), ("content-type", "application/json"))
        await fuzz(client, endpoints(app.routes), auth, tally, HYPOTHESIS_EXAMPLES)
    print(
        "\n" + tally.summary(f"ASGI, {database.backend}, {len(chosen)} of {len(every)} generated")
    )
    # then
    assert tally.requests >= 2_000
    assert len(tally.kinds) >= 40
    assert not tally.findings, report(tally.findings)
    async with asgi_client(app, token(Role.TENANT_ADMIN, tenant=world.YEN_MO)) as admin:
        assert await _members_total(admin) == (200, MEMBERS_TOTAL)
    assert app_engine.pool.checkedout() == checked_out


async def _busy_connections(db: databases.TestDatabase) -> int:
    """Connections of the server to ``db`` in a transaction or a statement (not idle)."""
    conn = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database="postgres")
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state <> 'idle'"
                " AND pid <> pg_backend_pid()",
                db.name,
            )
        )
    finally:
        await conn.close()


async def test_a_real_server_answers_bad_input_with_codes(database, token, tmp_path):
    # given: `pilotgraph serve` on a database of its own (what it writes stays there)
    if database.backend != "postgresql":
        pytest.skip("the process sample runs once, on PostgreSQL")
    db = await databases.create_postgres()
    engine = make_engine(db.app_url)
    await world.load_world(make_sessionmaker(engine))
    await engine.dispose()
    port, log = _free_port(), tmp_path / "server.log"
    process = _start(db.app_url, port, log)
    try:
        _wait_live(port, process, log)
        app = create_app(make_settings_for(db))
        chosen = sample(
            [p for p in probes(app.routes, principals(token)) if _over_a_socket(p)],
            PROCESS_SAMPLE,
            seed=7,
        )
        # the console is not built in a source tree: its page answers a documented coded 503
        tally = Tally(deliberate=frozenset({"CONSOLE_NOT_BUILT"}))
        # when: one kept-alive connection, so a probe that breaks it shows on the next one
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:
            await run(client, chosen, tally)
            member = token(Role.TENANT_ADMIN, tenant=world.YEN_MO)
            client.headers["authorization"] = f"Bearer {member}"
            healthy = await _members_total(client)
        print("\n" + tally.summary(f"uvicorn process, {len(chosen)} sampled"))
        busy = await _busy_connections(db)
    finally:
        process.terminate()
        process.wait(timeout=30)
        await databases.drop_postgres(db)
    # then
    assert tally.requests >= PROCESS_SAMPLE * 0.9
    assert not tally.findings, report(tally.findings)
    assert healthy == (200, MEMBERS_TOTAL)
    assert busy == 0
    assert "Traceback" not in log.read_text()


def _over_a_socket(probe: Probe) -> bool:
    """Whether the probe reaches the app over HTTP/1.1 and its answer can be read.

    uvicorn (h11) refuses control characters in headers with its own plain 400 before any app
    runs; a HEAD answer has no body to read a deliberate 503's code from (the in-process run,
    with the console built, covers both).
    """
    if any(c < " " and c != "\t" for _, value in probe.headers for c in value):
        return False
    return not (probe.method == "HEAD" and probe.path.partition("/admin")[1])


def make_settings_for(db: databases.TestDatabase):
    from tests.conftest import make_settings

    return make_settings(db)


async def _raises(_request):
    raise RuntimeError("planted")


async def _plain_500(_request):
    return PlainTextResponse("Internal Server Error", status_code=500)


async def _traceback(_request):
    return PlainTextResponse('Traceback (most recent call last):\n  File "x.py", line 1', 400)


async def test_the_checker_reports_planted_faults(gateway, token):
    # given: routes that fail the ways the generator looks for, added like any new route
    app = create_app(gateway.settings, state=gateway)
    app.router.routes[:0] = [
        Route("/planted/raises", _raises, methods=["POST"]),
        Route("/planted/plain", _plain_500, methods=["POST"]),
        Route("/planted/traceback", _traceback, methods=["POST"]),
    ]
    planted = [p for p in probes(app.routes, principals(token)) if "/planted/" in p.path]
    # when
    async with asgi_client(app) as client:
        tally = await run(client, sample(planted, 300), Tally())
    # then: each planted fault is reported, on its own route
    problems = {(f.probe.split()[1].split("/planted/")[1], f.problem) for f in tally.findings}
    assert ("raises", "escaped: RuntimeError('planted')") in problems
    assert ("plain", "status 500") in problems
    assert ("plain", "uncoded 500 (text/plain; charset=utf-8)") in problems
    assert ("traceback", "stack trace in the answer") in problems
    assert ("traceback", "uncoded 400 (text/plain; charset=utf-8)") in problems
    assert "findings in" in report(tally.findings)
