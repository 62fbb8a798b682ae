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
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from adoption.events import validate_all
from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.app import create_app
from gateway.console import routes as console_routes
from schema.text_arguments import bad_variable, unstorable
from tenants.types import Role
from tests import databases, world
from tests.adoption.conftest import INSTALL_KEY
from tests.faults.badinput.asgi import EndEventStreams
from tests.faults.badinput.checks import Probe, report
from tests.faults.badinput.fuzz import fuzz
from tests.faults.badinput.generate import probes
from tests.faults.badinput.routes import METHODS, endpoints
from tests.faults.badinput.run import Tally, run, sample
from tests.gateway.test_edge_http_audit import _free_port
from tests.gateway.test_edge_shutdown import _start, _wait_live
from tests.graphql import asgi_client
from tests.websocket import connect

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
    gateway, token, database, app_engine, built_console, capsys
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
    with capsys.disabled():  # the summary shows in every run's output
        print(
            "\n"
            + tally.summary(f"ASGI, {database.backend}, {len(chosen)} of {len(every)} generated")
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


async def test_a_real_server_answers_bad_input_with_codes(database, token, tmp_path, capsys):
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
        with capsys.disabled():
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


async def _uncoded_error(_request):
    return JSONResponse({"errors": [{"message": "no code"}]}, status_code=400)


async def _masked(_request):
    error = {"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    return JSONResponse({"data": None, "errors": [error]})


async def test_the_checker_reports_planted_faults(gateway, token):
    # given: routes that fail the ways the generator looks for, added like any new route
    app = create_app(gateway.settings, state=gateway)
    app.router.routes[:0] = [
        Route("/planted/raises", _raises, methods=["POST"]),
        Route("/planted/plain", _plain_500, methods=["POST"]),
        Route("/planted/traceback", _traceback, methods=["POST"]),
        Route("/planted/uncoded", _uncoded_error, methods=["POST"]),
        Route("/planted/masked", _masked, methods=["POST"]),
    ]
    planted = [p for p in probes(app.routes, principals(token)) if "/planted/" in p.path]
    # when
    async with asgi_client(app) as client:
        tally = await run(client, sample(planted, 300), Tally())
    # then: each planted fault is reported, on its own route
    problems = {(f.probe.split()[1].split("/planted/")[1], f.problem) for f in tally.findings}
    # the Faults middleware codes what escapes a handler; the checker still reports the 500
    assert ("raises", "status 500") in problems
    assert any(route == "raises" and p.startswith("INTERNAL_SERVER_ERROR") for route, p in problems)
    assert ("plain", "status 500") in problems
    assert ("plain", "uncoded 500 (text/plain; charset=utf-8)") in problems
    assert ("traceback", "stack trace in the answer") in problems
    assert ("traceback", "uncoded 400 (text/plain; charset=utf-8)") in problems
    assert ("uncoded", 'uncoded error: {"message": "no code"}') in problems
    assert (
        "masked",
        'INTERNAL_SERVER_ERROR: {"message": "Unexpected error.", "extensions": '
        '{"code": "INTERNAL_SERVER_ERROR"}}',
    ) in problems
    assert "findings in" in report(tally.findings)


# Pinned: each case the generator found, with its status, code and message.

UNSTORABLE = ["a\u0000b", "\ud800", "x\udfff", "\udbff\u0000"]
FIELD_LIMITS = {"deviceId": 128, "screen": 64, "installToken": 256}
GOOD_EVENT = {
    "type": "screen_viewed",
    "id": "00000000-0000-4000-8000-0000000000a1",
    "timestamp": "2026-11-25T02:00:00+00:00",
    "deviceId": "phone",
    "screen": "home",
}


def _escaped(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _unstorable_message(field: str) -> str:
    return f"'{field}' must not contain U+0000 or unpaired surrogates (\\ud800-\\udfff)."


@pytest.mark.parametrize("field", sorted(FIELD_LIMITS))
@pytest.mark.parametrize("poison", UNSTORABLE)
async def test_a_poison_event_is_refused_and_the_rest_of_its_batch_stored(
    client_for, token, field, poison
):
    # given: a batch whose first event carries text no database can store
    member = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    batch = [
        {**GOOD_EVENT, "id": "00000000-0000-4000-8000-0000000000a2", field: poison},
        GOOD_EVENT,
    ]
    # when
    response = await member.post(
        "/v1/events", content=_escaped(batch), headers={"content-type": "application/json"}
    )
    # then: that event is refused with a code, the other stored (a retry is not blocked)
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 1,
        "refused": 1,
        "stored": 1,
        "results": [
            {
                "index": 0,
                "status": "refused",
                "code": "INVALID_FIELD",
                "message": _unstorable_message(field),
            },
            {"index": 1, "status": "accepted"},
        ],
    }


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    field=st.sampled_from(sorted(FIELD_LIMITS)),
    text=st.text(max_size=40),
    at=st.integers(min_value=0, max_value=40),
    poison=st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]),
)
def test_the_validator_refuses_unstorable_text_in_any_position(field, text, at, poison):
    # given
    value = (text[:at] + poison + text[at:])[: FIELD_LIMITS[field]]
    if poison not in value:
        value = value[:-1] + poison
    event = {**GOOD_EVENT, "installToken": None, field: value}
    # when
    valid, refused = validate_all(
        [event], now=world.NOW, anonymous=False, tenant_id=world.YEN_MO, install_key=INSTALL_KEY
    )
    # then
    assert valid == []
    assert [(r.code, r.message) for r in refused] == [("INVALID_FIELD", _unstorable_message(field))]


LITERAL = "A string argument holds U+0000 or an unpaired surrogate, which text cannot hold."


def _variable_message(name: str) -> str:
    return f"Variable '${name}' holds U+0000 or an unpaired surrogate, which text cannot hold."


TEXT_ARGUMENTS = [
    ('{ documents(search: "a\\u0000b") { id } }', {}, LITERAL),
    ('{ documents(search: "a\\u{0}b") { id } }', {}, LITERAL),
    ('{ members(first: 2, after: "\\u0000") { totalCount } }', {}, LITERAL),
    ("query($s: String) { documents(search: $s) { id } }", {"s": "a\ud800b"}, "s"),
    ("query($c: String) { members(first: 2, after: $c) { totalCount } }", {"c": "\u0000"}, "c"),
    ("query($id: ID!) { branch(id: $id) { id } }", {"id": "\udfff"}, "id"),
    ("query($t: String!) { tenant(slug: $t) { slug } }", {"t": "yen-mo\u0000"}, "t"),
    (
        "mutation($e: [EventInput!]!) { trackEvents(events: $e) { accepted } }",
        {"e": [{"type": "login", "deviceId": "\ud800"}]},
        "e",
    ),
    ("query($u: String) { __typename }", {"u": "unused \u0000 too"}, "u"),
]


@pytest.mark.parametrize(("query", "variables", "expected"), TEXT_ARGUMENTS)
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_unstorable_text_in_any_argument_is_bad_user_input(
    client_for, token, query, variables, expected, accept
):
    # given
    admin = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    response = await admin.post(
        "/graphql",
        content=_escaped({"query": query, "variables": variables}),
        headers={"content-type": "application/json", "accept": accept},
    )
    # then: a request error, before any resolver ran
    assert response.status_code == (200 if accept == "application/json" else 400)
    body = response.json()
    assert list(body) == ["errors"]
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"] == (expected if expected == LITERAL else _variable_message(expected))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(value=st.recursive(st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)))
def test_the_argument_check_finds_unstorable_text_wherever_it_is(value):
    # when
    found = bad_variable({"v": value})
    # then
    assert (found == "v") == any(unstorable(s) for s in _texts(value))


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


async def test_every_route_refuses_a_method_it_does_not_take_with_coded_json(gateway):
    # given: every (route, method) the router refuses, read from app.routes
    app = create_app(gateway.settings, state=gateway)
    refused = [
        (endpoint.path(), method, endpoint.methods)
        for endpoint in endpoints(app.routes)
        if endpoint.methods is not None
        for method in METHODS
        if method not in endpoint.methods
    ]
    wrong = []
    # when
    async with asgi_client(app) as client:
        for path, method, allowed in refused:
            response = await client.request(method, path)
            allow = response.headers.get("allow", "")
            answer = (
                response.status_code,
                response.headers.get("content-type"),
                response.json() if method != "HEAD" else None,
                set(allow.split(", ")),
            )
            expected = (
                405,
                "application/json",
                {
                    "errors": [
                        {
                            "message": f"{method} is not allowed here; use {allow}.",
                            "extensions": {"code": "METHOD_NOT_ALLOWED"},
                        }
                    ]
                }
                if method != "HEAD"
                else None,
                set(allowed),
            )
            if answer != expected:
                wrong.append((method, path, answer))
    # then
    assert len(refused) >= 40
    assert {p for p, _, _ in refused} >= {
        "/graphql",
        "/v1/events",
        "/ofrep/v1/evaluate/flags",
        "/v1/adoption.csv",
        "/admin/api/session",
        "/admin/api/oidc/token",
    }
    assert wrong == []


ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) { __typename ... on Tenant { slug } }
}
"""
ENTITY_TYPES = "entities are Branch, Meeting, Member, Tenant."
REPRESENTATIONS = [
    ({"__typename": "Query"}, f"__typename 'Query' is no entity type; {ENTITY_TYPES}"),
    ({"__typename": "Nope", "id": "x"}, f"__typename 'Nope' is no entity type; {ENTITY_TYPES}"),
    ({"id": "x"}, f"__typename None is no entity type; {ENTITY_TYPES}"),
    ({"__typename": 5, "id": "x"}, f"__typename 5 is no entity type; {ENTITY_TYPES}"),
    ({"__typename": "Member"}, "a Member representation needs its key field 'id'."),
    ({"__typename": "Tenant", "id": "x"}, "a Tenant representation needs its key field 'slug'."),
    (
        {"__typename": "Member", "id": "x", "z": 1},
        "a Member representation takes only its key, not 'z'.",
    ),
    (
        {"__typename": "Member", "id": None},
        "the key field 'id' of a Member representation must be a string.",
    ),
    (
        {"__typename": "Branch", "id": 5},
        "the key field 'id' of a Branch representation must be a string.",
    ),
    (
        {"__typename": "Meeting", "id": ""},
        "the key field 'id' of a Meeting representation must be a string.",
    ),
    ("Member", "a representation must be an object with __typename and the entity's key."),
    (7, "a representation must be an object with __typename and the entity's key."),
    ([], "a representation must be an object with __typename and the entity's key."),
]


@pytest.mark.parametrize(("representation", "message"), REPRESENTATIONS)
async def test_a_malformed_entity_representation_gets_invalid_input(
    client_for, token, representation, message
):
    # given: a malformed representation between two good ones
    admin = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    good = {"__typename": "Tenant", "slug": world.YEN_MO}
    # when
    response = await admin.post(
        "/graphql",
        json={"query": ENTITIES, "variables": {"representations": [good, representation, good]}},
    )
    # then: that one is null with a coded error, the others resolve; no stack trace
    assert response.status_code == 200
    body = response.json()
    tenant = {"__typename": "Tenant", "slug": world.YEN_MO}
    assert body["data"] == {"_entities": [tenant, None, tenant]}
    assert [(e["message"], e["path"], e["extensions"]) for e in body["errors"]] == [
        (f"Representation 1: {message}", ["_entities", 1], {"code": "INVALID_INPUT"})
    ]
    assert "Traceback" not in response.text


async def test_every_json_endpoint_refuses_deep_json_before_parsing(gateway, token, built_console):
    # given: every route that takes a body, read from app.routes; JSON 500 levels deep (1,000
    # bytes: under the install-token endpoint's 1 KiB)
    app = create_app(gateway.settings, state=gateway)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    paths = ["/t/yen-mo" + e.path() for e in endpoints(app.routes) if e.takes_json]
    deep = b"[" * 500 + b"]" * 500
    answers = {}
    # when
    async with asgi_client(app, member) as client:
        for path in paths:
            response = await client.post(
                path, content=deep, headers={"content-type": "application/json"}
            )
            body = response.json()
            code = body.get("errorCode") or body["errors"][0]["extensions"]["code"]
            answers[path] = (response.status_code, code)
    # then
    deep_json = (400, "JSON_TOO_DEEP")
    assert answers == {
        "/t/yen-mo/graphql": deep_json,
        "/t/yen-mo/ofrep/v1/evaluate/flags": deep_json,
        "/t/yen-mo/ofrep/v1/evaluate/flags/handbook": deep_json,
        "/t/yen-mo/v1/events": deep_json,
        "/t/yen-mo/v1/install-tokens": deep_json,
        # no OpenID Connect issuer is configured: refused before its body is read
        "/t/yen-mo/admin/api/oidc/token": (404, "OIDC_NOT_CONFIGURED"),
        "/t/yen-mo/admin/api/oidc/refresh": (404, "OIDC_NOT_CONFIGURED"),
        "/t/yen-mo/admin/assets/probe.js": (405, "METHOD_NOT_ALLOWED"),
        "/t/yen-mo/admin/assets/": (405, "METHOD_NOT_ALLOWED"),
        "/t/yen-mo/assets/graphiql/probe.js": (405, "METHOD_NOT_ALLOWED"),
        "/t/yen-mo/assets/graphiql/": (405, "METHOD_NOT_ALLOWED"),
        "/t/yen-mo/assets/probe.js": (405, "METHOD_NOT_ALLOWED"),
        "/t/yen-mo/assets/": (405, "METHOD_NOT_ALLOWED"),
    }


async def test_console_assets_before_a_build_answer_a_coded_503(gateway, tmp_path, monkeypatch):
    # given: no console build
    monkeypatch.setattr(console_routes, "DIST", tmp_path / "missing")
    app = create_app(gateway.settings, state=gateway)
    # when
    async with asgi_client(app) as client:
        response = await client.get("/admin/assets/index.js")
    # then: the page's answer, not StaticFiles' RuntimeError (a 500)
    assert response.status_code == 503
    assert response.json() == {
        "errors": [
            {"message": console_routes.NOT_BUILT, "extensions": {"code": "CONSOLE_NOT_BUILT"}}
        ]
    }


@pytest.mark.parametrize(
    "payload",
    [
        {
            "query": "query($s: String) { documents(search: $s) { id } }",
            "variables": {"s": "\ud800"},
        },
        {
            "query": "subscription($u: String) { featuresChanged { key } }",
            "variables": {"u": "\x00"},
        },
    ],
)
async def test_websocket_operations_refuse_unstorable_text_alike(gateway, token, payload):
    # given
    app = create_app(gateway.settings, state=gateway)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    name = next(iter(payload["variables"]))
    # when
    async with connect(app, member) as socket:
        messages = await socket.operation(payload)
    # then: the same request error as over HTTP, as an `error` message
    assert [m["type"] for m in messages] == ["error"]
    assert messages[0]["payload"] == [
        {"message": _variable_message(name), "extensions": {"code": "BAD_USER_INPUT"}}
    ]


async def test_console_assets_once_built_are_served(gateway, built_console):
    # given
    app = create_app(gateway.settings, state=gateway)
    # when
    async with asgi_client(app) as client:
        asset = await client.get("/admin/assets/probe.js")
        missing = await client.get("/admin/assets/missing.js")
    # then
    assert (asset.status_code, asset.text) == (200, "export {};")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


async def test_the_console_login_refuses_deep_json_before_asking_its_issuer(gateway, monkeypatch):
    # given: an issuer configured (never reached: the body is refused first)
    monkeypatch.setattr(
        gateway,
        "settings",
        gateway.settings.model_copy(update={"oidc_issuer": "http://127.0.0.1:9/never-asked"}),
    )
    app = create_app(gateway.settings, state=gateway)
    # when
    async with asgi_client(app) as client:
        response = await client.post(
            "/admin/api/oidc/token",
            content=b"[" * 1_000 + b"]" * 1_000,
            headers={"content-type": "application/json"},
        )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "The JSON nests more than 64 levels deep.",
                "extensions": {"code": "JSON_TOO_DEEP"},
            }
        ]
    }
