"""Claims read at configurable paths (by default Keycloak's ``realm_access.roles``), fail closed."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.auth import AuthError, issue_development_token, principal_from_claims
from gateway.claims import ROLE_NAMES, ClaimPaths
from gateway.settings import DEVELOPMENT_JWT_SECRET, Settings, SettingsError, load_settings
from tenants.identity import Principal
from tenants.types import Role
from tests import world

LATER = int(time.time()) + 86_400
TENANT = "{ tenant { slug } }"
KEYCLOAK_ROLES = ["offline_access", "uma_authorization", "default-roles-pilotgraph"]
ROLES_MESSAGE = "The roles claim must be a non-empty list of known roles."
MEMBER_ID_MESSAGE = "The member id claim must be a non-empty string."
KC_UUID = "5f0e8a4c-1b9e-4c41-9d0c-2b3c8a6f7e11"
DROP = object()  # a claim left out of the token (None is JSON null)


def keycloak_claims(**overrides: Any) -> dict[str, Any]:
    """A Keycloak access token's claims for a Yen Mo member (``DROP`` removes a claim)."""
    claims = {
        "sub": KC_UUID,
        "exp": LATER,
        "realm_access": {"roles": ["member", *KEYCLOAK_ROLES]},
        "tenant": world.YEN_MO,
        "member_id": str(world.YM_MEMBER_A),
        "preferred_username": "binh",
        "typ": "Bearer",
    }
    return {k: v for k, v in (claims | overrides).items() if v is not DROP}


def refusal(payload: dict[str, Any], registry: Any, paths: ClaimPaths | None = None) -> str:
    with pytest.raises(AuthError) as caught:
        principal_from_claims(payload, registry, paths=paths or ClaimPaths())
    return caught.value.message


def test_a_keycloak_token_gives_the_member_and_drops_keycloak_roles(gateway):
    # when
    principal = principal_from_claims(keycloak_claims(), gateway.registry)
    # then: the subject is the member id attribute, not Keycloak's user UUID
    assert principal == Principal(
        subject=str(world.YM_MEMBER_A), roles=frozenset({Role.MEMBER}), tenant=world.YEN_MO
    )


def test_without_a_member_id_claim_the_subject_is_sub(gateway):
    # when
    principal = principal_from_claims(keycloak_claims(member_id=DROP), gateway.registry)
    # then
    assert principal.subject == KC_UUID


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"realm_access": {"roles": KEYCLOAK_ROLES}}, ROLES_MESSAGE),
        ({"realm_access": {"roles": ["member", 7]}}, ROLES_MESSAGE),
        ({"realm_access": {"roles": "member"}}, ROLES_MESSAGE),
        ({"realm_access": {"roles": None}}, ROLES_MESSAGE),
        # present but not an object: the wrong type, not a missing claim
        ({"realm_access": "member"}, ROLES_MESSAGE),
        ({"realm_access": None}, ROLES_MESSAGE),
        ({"realm_access": ["member"]}, ROLES_MESSAGE),
        # a present path decides: a flat roles claim is no fallback for a bad realm_access.roles
        ({"realm_access": {"roles": KEYCLOAK_ROLES}, "roles": ["province_admin"]}, ROLES_MESSAGE),
        ({"realm_access": {}}, ROLES_MESSAGE),
        ({"realm_access": None, "roles": ["member"]}, ROLES_MESSAGE),
        ({"member_id": ""}, MEMBER_ID_MESSAGE),
        ({"member_id": None}, MEMBER_ID_MESSAGE),
        ({"member_id": 1002}, MEMBER_ID_MESSAGE),
        ({"tenant": {"id": world.YEN_MO}}, "The tenant claim must be a non-empty string."),
    ],
)
def test_a_bad_claim_at_its_path_is_refused(gateway, overrides, message):
    # when / then
    assert refusal(keycloak_claims(**overrides), gateway.registry) == message


def test_a_missing_realm_access_falls_back_to_flat_roles(gateway):
    # given: realm_access absent (no intermediate object) → the next path, the flat roles claim
    payload = keycloak_claims(realm_access=DROP, roles=["tenant_admin", "offline_access"])
    # when
    principal = principal_from_claims(payload, gateway.registry)
    # then
    assert principal.roles == frozenset({Role.TENANT_ADMIN})


def test_configured_paths_are_the_only_ones_read(gateway):
    # given: roles in a "groups" claim, tenant and member id inside an "pilotgraph" object
    paths = ClaimPaths(
        roles=("groups",), tenant=("pilotgraph.tenant",), member_id=("pilotgraph.member",)
    )
    payload = keycloak_claims(
        groups=["branch_secretary"],
        tenant=DROP,
        member_id=DROP,
        pilotgraph={"tenant": world.KIM_SON, "member": str(world.KS_SECRETARY)},
    )
    # when
    principal = principal_from_claims(payload, gateway.registry, paths=paths)
    # then: realm_access.roles (member) is not read at all
    assert principal == Principal(
        subject=str(world.KS_SECRETARY),
        roles=frozenset({Role.BRANCH_SECRETARY}),
        tenant=world.KIM_SON,
    )
    roles_missing = keycloak_claims(pilotgraph={"tenant": world.YEN_MO, "member": "m-1"})
    assert refusal(roles_missing, gateway.registry, paths) == ROLES_MESSAGE
    member_id_missing = keycloak_claims(groups=["member"], pilotgraph={"tenant": world.YEN_MO})
    assert refusal(member_id_missing, gateway.registry, paths) == MEMBER_ID_MESSAGE


def test_claim_path_settings_are_read_and_checked(monkeypatch):
    # given
    monkeypatch.setenv("PILOTGRAPH_CLAIM_ROLES", "realm_access.roles, groups")
    monkeypatch.setenv("PILOTGRAPH_CLAIM_MEMBER_ID", "attributes.member_id")
    # when
    paths = load_settings().claim_paths
    # then
    assert paths == ClaimPaths(
        roles=("realm_access.roles", "groups"), member_id=("attributes.member_id",)
    )
    monkeypatch.setenv("PILOTGRAPH_CLAIM_TENANT", "attributes..tenant")
    with pytest.raises(SettingsError, match=r"PILOTGRAPH_CLAIM_TENANT: .*not a dotted claim path"):
        load_settings()


def test_development_tokens_follow_the_configured_paths(gateway):
    # given
    configured = Settings(claim_roles="realm_access.roles", claim_member_id="sub,member_id")
    # when
    token = issue_development_token(
        configured, subject="m-7", roles=[Role.MEMBER], tenant=world.YEN_MO
    )
    claims = jwt.decode(token, DEVELOPMENT_JWT_SECRET, ["HS256"], audience="pilotgraph")
    principal = principal_from_claims(claims, gateway.registry, paths=configured.claim_paths)
    # then
    assert (claims["realm_access"], claims["member_id"]) == ({"roles": ["member"]}, "m-7")
    assert "roles" not in claims
    assert principal == Principal("m-7", frozenset({Role.MEMBER}), world.YEN_MO)


# -- fuzzing Keycloak-shaped tokens against the test's own reading of the rules ----------------

MISSING = object()
KNOWN = sorted(ROLE_NAMES)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` four times in five: accepted tokens stay common, so every rule is reached."""
    return st.sampled_from([good, good, good, good, bad]).flatmap(lambda chosen: chosen)


SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=4) | st.just([])
ROLE_LISTS = mostly(
    st.tuples(
        st.lists(st.sampled_from(KNOWN), min_size=1, max_size=2),
        st.lists(st.sampled_from(KEYCLOAK_ROLES), max_size=3),
    ).flatmap(lambda parts: st.permutations([*parts[0], *parts[1]])),
    st.lists(st.sampled_from([*KNOWN, "", "Member"]) | st.integers() | st.none(), max_size=3),
)
ROLES_VALUE = mostly(ROLE_LISTS, SCALARS)
REALM_ACCESS = mostly(st.fixed_dictionaries({"roles": ROLES_VALUE}), st.just({}) | SCALARS)
TENANTS = st.sampled_from([world.YEN_MO, world.KIM_SON, world.DUY_TIEN, "atlantis"])
PROVINCES = st.sampled_from([*world.PROVINCES, "atlantis"])
CLAIM_VALUES = {
    "realm_access": mostly(REALM_ACCESS, st.just(MISSING)),
    "roles": st.just(MISSING) | ROLES_VALUE,
    "tenant": mostly(TENANTS, st.just(MISSING) | SCALARS),
    "province": mostly(st.just(MISSING) | PROVINCES, SCALARS),
    "member_id": st.just(MISSING) | mostly(st.just("m-1"), SCALARS),
}


@st.composite
def keycloak_payloads(draw: st.DrawFn) -> dict[str, Any]:
    drawn = {claim: draw(values) for claim, values in CLAIM_VALUES.items()}
    base = {"sub": KC_UUID, "exp": LATER}
    return base | {claim: value for claim, value in drawn.items() if value is not MISSING}


class Refused(Exception):
    pass


def _name(payload: dict[str, Any], claim: str) -> str | None:
    value = payload.get(claim)
    if claim in payload and not (isinstance(value, str) and value):
        raise Refused(claim)
    return value


def _roles(payload: dict[str, Any]) -> frozenset[Role]:
    access = payload.get("realm_access", MISSING)
    if access is not MISSING and not isinstance(access, dict):
        raise Refused("roles")
    value = access.get("roles", MISSING) if isinstance(access, dict) else MISSING
    value = payload.get("roles", MISSING) if value is MISSING else value
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Refused("roles")
    roles = frozenset(Role(v) for v in value if v in ROLE_NAMES)
    if not roles:
        raise Refused("roles")
    return roles


def expected_principal(payload: dict[str, Any], registry: Any) -> Principal:
    """The test's own reading of the rules: the principal, or Refused."""
    member_id = _name(payload, "member_id") or payload["sub"]
    roles = _roles(payload)
    tenant, province = _name(payload, "tenant"), _name(payload, "province")
    if province is not None and not registry.has_province(province):
        raise Refused("province")
    home = registry.get(tenant) if tenant is not None else None
    if tenant is not None and home is None:
        raise Refused("tenant")
    province_role = bool(roles & {Role.PROVINCE_ADMIN, Role.AUDITOR})
    if (province_role and province is None) or (not province_role and home is None):
        raise Refused("scope")
    if home is not None and province not in (None, home.province_id):
        raise Refused("tenant")
    return Principal(subject=member_id, roles=roles, tenant=tenant, province=province)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=keycloak_payloads())
def test_fuzzed_keycloak_claims_give_exactly_what_they_say_or_are_refused(gateway, payload):
    # given
    try:
        expected: Principal | None = expected_principal(payload, gateway.registry)
    except Refused:
        expected = None
    # when
    refused: AuthError | None = None
    try:
        principal: Principal | None = principal_from_claims(payload, gateway.registry)
    except AuthError as exc:
        refused, principal = exc, None
    # then: never more (nor other) rights than the token states; a refusal is coded
    assert principal == expected, payload
    if refused is not None:
        assert refused.code == "UNAUTHENTICATED"
        assert refused.message.startswith("The "), payload


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=keycloak_payloads())
async def test_fuzzed_keycloak_claims_over_http_never_grant_more(client_for, gateway, payload):
    # given
    try:
        expected: Principal | None = expected_principal(payload, gateway.registry)
    except Refused:
        expected = None
    claims = {"iss": "pilotgraph-dev", "aud": "pilotgraph", **payload}
    client = client_for(jwt.encode(claims, DEVELOPMENT_JWT_SECRET, algorithm="HS256"))
    # when
    response = await client.post(f"/t/{world.YEN_MO}/graphql", json={"query": TENANT})
    # then: never a 5xx, every error coded, Yen Mo only for claims that reach it
    body = response.json()
    assert response.status_code < 500, response.text
    assert all(error["extensions"]["code"] for error in body.get("errors", []))
    if expected is None:
        assert (response.status_code, body["errors"][0]["extensions"]["code"]) == (
            401,
            "UNAUTHENTICATED",
        ), payload
    read = (body.get("data") or {}).get("tenant")
    assert bool(read) == (expected is not None and reaches_yen_mo(expected)), (payload, body)


def reaches_yen_mo(principal: Principal) -> bool:
    if principal.tenant == world.YEN_MO:
        return True
    return principal.reaches_province and principal.province == world.PROVINCE


NESTED = ClaimPaths(
    roles=("pg.roles",), tenant=("pg.tenant",), province=("pg.province",), member_id=("pg.member",)
)


@st.composite
def nested_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """Claims under one ``pg`` object (or a ``pg`` of the wrong type, or none), as NESTED reads."""
    drawn = {claim: draw(CLAIM_VALUES[claim]) for claim in ("roles", "tenant", "province")}
    drawn["member"] = draw(mostly(st.just("m-1"), st.just(MISSING) | SCALARS))
    inner = {claim: value for claim, value in drawn.items() if value is not MISSING}
    pg = draw(mostly(st.just(inner), st.just(MISSING) | SCALARS))
    flat = {"roles": ["member"], "tenant": world.YEN_MO}  # never read with NESTED
    return {"sub": KC_UUID, "exp": LATER, **flat} | ({} if pg is MISSING else {"pg": pg})


def expected_nested(payload: dict[str, Any], registry: Any) -> Principal:
    """The test's reading of NESTED: the ``pg`` object's claims, or Refused."""
    pg = payload.get("pg", MISSING)
    if not isinstance(pg, dict) or "member" not in pg:
        raise Refused("pg")  # no member id: NESTED has no sub to fall back on
    flat = {"sub": KC_UUID, "member_id": pg["member"]}
    flat |= {claim: pg[claim] for claim in ("roles", "tenant", "province") if claim in pg}
    return expected_principal(flat, registry)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=nested_payloads())
def test_fuzzed_claims_at_configured_paths_give_exactly_what_they_say(gateway, payload):
    # given
    try:
        expected: Principal | None = expected_nested(payload, gateway.registry)
    except Refused:
        expected = None
    # when
    try:
        principal: Principal | None = principal_from_claims(payload, gateway.registry, paths=NESTED)
    except AuthError:
        principal = None
    # then
    assert principal == expected, payload
