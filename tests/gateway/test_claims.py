"""Bearer claims are parsed against a strict schema and fail closed, over the real HTTP app."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.claims import ROLE_NAMES
from gateway.settings import DEVELOPMENT_JWT_SECRET
from tenants.identity import Principal
from tenants.registry import TenantInfo
from tenants.types import Role
from tests import world
from tests.graphql import gql

DROP = object()  # a claim left out of the token
LATER = int(time.time()) + 86_400
TENANT = "{ tenant { slug } }"
ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Tenant { slug memberCount } }
}
"""
CSV = "/v1/adoption.csv?from=2026-11-01&to=2026-11-30"
MEMBER = {"sub": "m1", "roles": ["member"], "tenant": world.YEN_MO}
PROVINCE_ADMIN = {"sub": "pa", "roles": ["province_admin"], "province": world.PROVINCE}
PROVINCE_TYPE = "The province claim must be a non-empty string."
UNKNOWN_PROVINCE = "The province claim names no known province."
NEEDS_PROVINCE = "The province claim is required for province roles."
SUB_TYPE = "The sub claim must be a non-empty string."
ROLES_TYPE = "The roles claim must be a non-empty list of known roles."
TENANT_TYPE = "The tenant claim must be a non-empty string."
SECONDS = "claim must be a number of seconds since the epoch."


def signed(base: dict[str, Any], **overrides: Any) -> str:
    """An HS256 development token: ``base`` claims with ``overrides`` (``DROP`` removes one)."""
    claims = {"iss": "pilotgraph-dev", "aud": "pilotgraph", "exp": LATER, **base, **overrides}
    claims = {key: value for key, value in claims.items() if value is not DROP}
    return jwt.encode(claims, DEVELOPMENT_JWT_SECRET, algorithm="HS256")


def unauthenticated(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


NAME_TYPE = "The name claim must be a string of 1 to 200 characters."


@pytest.mark.parametrize(
    ("base", "overrides", "message"),
    [
        (PROVINCE_ADMIN, {"province": ["ha-nam"]}, PROVINCE_TYPE),
        (PROVINCE_ADMIN, {"province": ""}, PROVINCE_TYPE),
        (PROVINCE_ADMIN, {"province": 7}, PROVINCE_TYPE),
        (PROVINCE_ADMIN, {"province": None}, PROVINCE_TYPE),
        (PROVINCE_ADMIN, {"province": {"id": "ninh-binh"}}, PROVINCE_TYPE),
        (PROVINCE_ADMIN, {"province": "atlantis"}, UNKNOWN_PROVINCE),
        (PROVINCE_ADMIN, {"province": DROP}, NEEDS_PROVINCE),
        (
            PROVINCE_ADMIN,
            {"province": DROP, "roles": ["auditor"], "tenant": world.YEN_MO},
            NEEDS_PROVINCE,
        ),
        (MEMBER, {"province": ["ninh-binh"]}, PROVINCE_TYPE),
        (MEMBER, {"exp": str(LATER)}, f"The exp {SECONDS}"),
        (MEMBER, {"exp": True}, f"The exp {SECONDS}"),
        (MEMBER, {"exp": [LATER]}, f"The exp {SECONDS}"),
        (MEMBER, {"nbf": "0"}, f"The nbf {SECONDS}"),
        (MEMBER, {"nbf": None}, f"The nbf {SECONDS}"),
        (MEMBER, {"iat": "0"}, f"The iat {SECONDS}"),
        (MEMBER, {"iat": False}, f"The iat {SECONDS}"),
        (MEMBER, {"nbf": LATER}, "The bearer token is not valid yet (nbf)."),
        (MEMBER, {"iat": LATER}, "The bearer token is not valid yet (iat)."),
        (MEMBER, {"sub": ""}, SUB_TYPE),
        (MEMBER, {"sub": 42}, SUB_TYPE),
        (MEMBER, {"sub": ["m1"]}, SUB_TYPE),
        (MEMBER, {"roles": []}, ROLES_TYPE),
        (MEMBER, {"roles": "member"}, ROLES_TYPE),
        (MEMBER, {"roles": ["member", 1]}, ROLES_TYPE),
        (MEMBER, {"roles": ["emperor"]}, ROLES_TYPE),
        (MEMBER, {"roles": ["offline_access", "default-roles-pilotgraph"]}, ROLES_TYPE),
        (MEMBER, {"roles": ["member", ""]}, ROLES_TYPE),
        (MEMBER, {"roles": DROP}, ROLES_TYPE),
        (MEMBER, {"roles": [""]}, ROLES_TYPE),
        (MEMBER, {"tenant": ""}, TENANT_TYPE),
        (MEMBER, {"tenant": [world.YEN_MO]}, TENANT_TYPE),
        (MEMBER, {"tenant": None}, TENANT_TYPE),
        (MEMBER, {"tenant": "atlantis"}, "The tenant claim names no known tenant."),
        (MEMBER, {"name": ""}, NAME_TYPE),
        (MEMBER, {"name": None}, NAME_TYPE),
        (MEMBER, {"name": ["Nguyễn Văn An"]}, NAME_TYPE),
        (MEMBER, {"name": "x" * 201}, NAME_TYPE),
        (MEMBER, {"tenant": DROP}, "The tenant claim is required for tenant roles."),
        (
            PROVINCE_ADMIN,
            {"province": world.OTHER_PROVINCE, "tenant": world.YEN_MO},
            "The tenant claim names a tenant outside the province claim.",
        ),
    ],
)
async def test_a_bad_claim_is_401_naming_it(client_for, base, overrides, message):
    # given
    client = client_for(signed(base, **overrides))
    # when
    status, body = await gql(client, TENANT, path=f"/t/{world.YEN_MO}/graphql")
    # then
    assert status == 401
    assert body == unauthenticated(message)


async def test_the_strict_schema_accepts_well_typed_tokens(client_for):
    # given: unknown claims are ignored; NumericDates may carry a fraction
    # and role names outside PilotGraph's are ignored
    member = client_for(
        signed(MEMBER, extra={"a": [1]}, iat=LATER - 86_400.5, nbf=0, roles=["member", "x"])
    )
    admin = client_for(signed(PROVINCE_ADMIN, tenant=world.KIM_SON))
    # when
    answers = [await gql(c, TENANT, path=f"/t/{world.YEN_MO}/graphql") for c in (member, admin)]
    # then
    assert answers == [(200, {"data": {"tenant": {"slug": world.YEN_MO}}})] * 2


async def test_a_province_list_token_reads_nothing_of_yen_mo(client_for):
    # given: the finding's token, which used to be province-wide for every province
    client = client_for(signed(PROVINCE_ADMIN, province=[world.OTHER_PROVINCE]))
    representations = [{"__typename": "Tenant", "slug": world.YEN_MO}]
    # when
    graphql = await gql(client, TENANT, path=f"/t/{world.YEN_MO}/graphql")
    entities = await gql(client, ENTITIES, {"representations": representations})
    csv = await client.get(f"{CSV}&tenant={world.YEN_MO}")
    # then
    assert graphql == (401, unauthenticated(PROVINCE_TYPE))
    assert entities == (401, unauthenticated(PROVINCE_TYPE))
    assert (csv.status_code, csv.json()) == (401, unauthenticated(PROVINCE_TYPE))


async def test_the_console_refuses_a_province_list_token(client_for):
    # given
    client = client_for(signed(PROVINCE_ADMIN, province=[world.OTHER_PROVINCE]))
    # when
    response = await client.get("/admin/api/session")
    # then
    assert (response.status_code, response.json()) == (401, unauthenticated(PROVINCE_TYPE))


async def websocket_handshake(app: Any, path: str, token: str) -> list[dict[str, Any]]:
    """What ``app`` sends back to a WebSocket handshake (a denial response is HTTP messages)."""
    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"host", b"testserver")],
        "subprotocols": ["graphql-transport-ws"],
        "scheme": "ws",
        "root_path": "",
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "asgi": {"version": "3.0"},
        "extensions": {"websocket.http.response": {}},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_a_province_list_token_cannot_open_a_subscription(gateway):
    # given
    app = create_app(gateway.settings, state=gateway)
    token = signed(PROVINCE_ADMIN, province=[world.OTHER_PROVINCE])
    # when
    start, body = await websocket_handshake(app, f"/t/{world.YEN_MO}/graphql", token)
    # then: denied before the handshake is accepted
    assert (start["type"], start["status"]) == ("websocket.http.response.start", 401)
    assert json.loads(body["body"]) == unauthenticated(PROVINCE_TYPE)


def test_a_province_role_without_province_covers_no_tenant():
    # given: a principal built by hand, as no verified token can build it any more
    principal = Principal(subject="x", roles=frozenset({Role.PROVINCE_ADMIN}))
    yen_mo = TenantInfo(
        id=world.YEN_MO,
        name="Yên Mô",
        kind="district",
        province_id=world.PROVINCE,
        province_name="Ninh Bình",
        timezone="Asia/Ho_Chi_Minh",
        parent_id=None,
    )
    # when / then
    assert not principal.covers(yen_mo)


# -- fuzzing: any claim, any JSON value -------------------------------------------------------

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from([*sorted(ROLE_NAMES), world.YEN_MO, world.KIM_SON, *world.PROVINCES]),
)


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)


JSON_VALUES = st.recursive(JSON_LEAVES, containers, max_leaves=6)
CLAIMS = ("sub", "roles", "tenant", "province", "exp", "nbf", "iat")


def well_typed(claim: str, value: Any) -> bool:
    """The test's own reading of the claim schema: what a value of each claim must be."""
    if value is DROP:
        return claim not in ("sub", "roles", "exp")
    if claim == "roles":  # names outside PilotGraph's roles are ignored, but one must remain
        return (
            isinstance(value, list)
            and all(isinstance(v, str) and v != "" for v in value)
            and bool(set(value) & ROLE_NAMES)
        )
    if claim in ("exp", "nbf", "iat"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value)
    return isinstance(value, str) and value != ""


@st.composite
def mutated_claims(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid token's claims with some claims replaced, dropped, or added."""
    base = draw(st.sampled_from([MEMBER, PROVINCE_ADMIN]))
    changed = draw(st.lists(st.sampled_from(CLAIMS), min_size=1, max_size=3, unique=True))
    overrides = {claim: draw(st.just(DROP) | JSON_VALUES) for claim in changed}
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=6), JSON_VALUES, max_size=2))
    return base, {**{k: v for k, v in extra.items() if k not in CLAIMS}, **overrides}


def may_read_yen_mo(claims: dict[str, Any]) -> bool:
    roles = set(claims.get("roles", []))
    if claims.get("tenant") == world.YEN_MO:
        return True
    return bool(roles & {"province_admin", "auditor"}) and claims.get("province") == world.PROVINCE


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=mutated_claims())
async def test_fuzzed_claims_fail_closed(client_for, case):
    # given
    base, overrides = case
    claims = {"iss": "pilotgraph-dev", "aud": "pilotgraph", "exp": LATER, **base, **overrides}
    client = client_for(signed(base, **overrides))
    # when
    response = await client.post(f"/t/{world.YEN_MO}/graphql", json={"query": TENANT})
    # then: never a 5xx, every error coded, and data only for well-typed claims that cover it
    assert response.status_code < 500, response.text
    body = response.json()
    assert all(error["extensions"]["code"] for error in body.get("errors", []))
    typed = all(well_typed(claim, value) for claim, value in overrides.items() if claim in CLAIMS)
    if not typed:
        assert response.status_code == 401, (overrides, body)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    if (body.get("data") or {}).get("tenant"):
        kept = {k: v for k, v in claims.items() if v is not DROP}
        assert typed, (overrides, body)
        assert may_read_yen_mo(kept), (overrides, body)
