"""Service credentials on OFREP, through HTTP: scope, refusals, revocation, expiry, other routes.

Run on SQLite and PostgreSQL (as the app role). Cases are generated over the scopes (province,
tenant) and the routes a key must never open.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.state import GatewayState
from tenants.credentials import service
from tenants.credentials.models import ServiceCredential
from tenants.errors import InvalidCredentialInput, TenantNotFound
from tests import world
from tests.conftest import Client
from tests.world import NOW

ONE = "/ofrep/v1/evaluate/flags/handbook"
BULK = "/ofrep/v1/evaluate/flags"
YM_MEMBER = str(world.YM_MEMBER_A)
KS_MEMBER = str(world.KS_MEMBER)
NOT_OFREP = ["/graphql", "/t/yen-mo/graphql", "/v1/events", "/v1/install-tokens"]


async def _key(
    gateway: GatewayState,
    *,
    tenant: str | None,
    province: str = world.PROVINCE,
    expires_at: dt.datetime | None = None,
) -> str:
    async with gateway.sessionmaker() as session, session.begin():
        _, key = await service.create(
            session=session,
            province_id=province,
            tenant_id=tenant,
            name="citizen portal",
            expires_at=expires_at,
            now=NOW,
        )
    return key


def _id(key: str) -> str:
    parts = service.split_key(key)
    assert parts is not None
    return parts[0]


def _code(response: httpx.Response) -> str:
    """The code of an edge refusal (GraphQL-shaped errors body)."""
    return str(response.json()["errors"][0]["extensions"]["code"])


async def _count(gateway: GatewayState) -> int:
    async with gateway.sessionmaker() as session:
        return len(list(await session.scalars(ServiceCredential.__table__.select())))


@pytest.mark.parametrize(
    ("scope", "prefix"), [(world.YEN_MO, ""), (None, "/t/yen-mo"), (world.YEN_MO, "/t/yen-mo")]
)
async def test_a_key_evaluates_for_any_member_of_its_scope(
    gateway: GatewayState, client_for: Client, scope: str | None, prefix: str
) -> None:
    # given
    key = await _key(gateway, tenant=scope)
    # when
    one = await client_for(key).post(prefix + ONE, json={"context": {"targetingKey": YM_MEMBER}})
    bulk = await client_for(key).post(prefix + BULK, json={"context": {"targetingKey": YM_MEMBER}})
    # then
    assert one.status_code == 200, one.text
    assert one.json()["key"] == "handbook"
    assert {"value", "reason", "variant"} <= one.json().keys()
    assert bulk.status_code == 200
    assert "handbook" in {flag["key"] for flag in bulk.json()["flags"]}


@pytest.mark.parametrize(
    ("scope", "prefix", "member", "code"),
    [
        (world.YEN_MO, "", KS_MEMBER, "TARGETING_KEY_NOT_IN_SCOPE"),  # another tenant's member
        (world.YEN_MO, "", "00000000-0000-0000-0000-000000000000", "TARGETING_KEY_NOT_IN_SCOPE"),
        (world.YEN_MO, "", "not-a-member", "TARGETING_KEY_NOT_IN_SCOPE"),
        (None, "/t/kim-son", YM_MEMBER, "TARGETING_KEY_NOT_IN_SCOPE"),
        (None, "", YM_MEMBER, "TENANT_REQUIRED"),
    ],
)
async def test_a_member_outside_the_scope_is_refused(
    gateway: GatewayState,
    client_for: Client,
    scope: str | None,
    prefix: str,
    member: str,
    code: str,
) -> None:
    # given
    key = await _key(gateway, tenant=scope)
    # when
    response = await client_for(key).post(prefix + ONE, json={"context": {"targetingKey": member}})
    # then
    assert response.status_code in (400, 403)
    assert response.json()["errorCode"] == code


async def test_a_tenant_key_cannot_select_another_tenant(
    gateway: GatewayState, client_for: Client
) -> None:
    key = await _key(gateway, tenant=world.YEN_MO)
    response = await client_for(key).post("/t/kim-son" + ONE, json={"context": {}})
    assert response.status_code == 403
    assert _code(response) == "FORBIDDEN_TENANT"


async def test_another_provinces_key_cannot_reach_this_province(
    gateway: GatewayState, client_for: Client
) -> None:
    key = await _key(gateway, tenant=None, province=world.OTHER_PROVINCE)
    response = await client_for(key).post(
        "/t/yen-mo" + ONE, json={"context": {"targetingKey": YM_MEMBER}}
    )
    assert response.status_code == 403
    assert _code(response) == "FORBIDDEN_TENANT"


@pytest.mark.parametrize("path", NOT_OFREP)
async def test_a_key_is_refused_on_every_other_route(
    gateway: GatewayState, client_for: Client, path: str
) -> None:
    key = await _key(gateway, tenant=world.YEN_MO)
    response = await client_for(key).post(path, json={"query": "{ me { fullName } }"})
    assert response.status_code == 401
    assert _code(response) == "SERVICE_CREDENTIAL_NOT_ACCEPTED"


async def test_a_wrong_secret_revoked_or_expired_key_is_refused(
    gateway: GatewayState, client_for: Client
) -> None:
    # given
    good = await _key(gateway, tenant=world.YEN_MO)
    expired = await _key(gateway, tenant=world.YEN_MO, expires_at=NOW + dt.timedelta(seconds=1))
    revoked = await _key(gateway, tenant=world.YEN_MO)
    async with gateway.sessionmaker() as session, session.begin():
        await service.revoke_or_raise(
            session=session, province_id=world.PROVINCE, credential_id=_id(revoked), now=NOW
        )
    gateway.clock = lambda: NOW + dt.timedelta(seconds=2)
    body = {"context": {"targetingKey": YM_MEMBER}}
    # when
    answers = {
        "wrong": await client_for(good[:-2] + "zz").post(ONE, json=body),
        "unknown": await client_for("pgk_0123456789ab_" + "x" * 43).post(ONE, json=body),
        "expired": await client_for(expired).post(ONE, json=body),
        "revoked": await client_for(revoked).post(ONE, json=body),
        "good": await client_for(good).post(ONE, json=body),
    }
    # then
    assert answers.pop("good").status_code == 200
    for name, response in answers.items():
        assert response.status_code == 401, name
        assert _code(response) == "UNAUTHENTICATED", name


async def test_a_new_secret_under_the_same_id_never_meets_the_held_entry(
    gateway: GatewayState, client_for: Client
) -> None:
    # given: the key was used (so this process holds its credential), then its row's secret
    # changed under the same public id
    old = await _key(gateway, tenant=world.YEN_MO)
    body = {"context": {"targetingKey": YM_MEMBER}}
    held = await client_for(old).post(ONE, json=body)
    new_secret = "n" * 43
    async with gateway.sessionmaker() as session, session.begin():
        await session.execute(
            ServiceCredential.__table__.update()
            .where(ServiceCredential.id == _id(old))
            .values(secret_sha256=service.digest(new_secret))
        )
    # when
    new = await client_for(f"pgk_{_id(old)}_{new_secret}").post(ONE, json=body)
    stale = await client_for(old).post(ONE, json=body)
    # then
    assert held.status_code == 200, held.text
    assert new.status_code == 200, new.text
    assert stale.status_code == 401
    assert _code(stale) == "UNAUTHENTICATED"
    assert stale.json()["errors"][0]["message"] == "The service credential was refused."


@given(tail=st.text(alphabet="abcdef0123456789_-xyzABC", max_size=30))
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_a_malformed_key_is_refused_with_a_code(client_for: Client, tail: str) -> None:
    response = await client_for("pgk_" + tail).post(ONE, json={"context": {}})
    assert response.status_code == 401
    assert _code(response) == "UNAUTHENTICATED"


async def test_a_user_token_still_needs_its_own_subject(client_for: Client, token) -> None:
    from tenants.types import Role

    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=YM_MEMBER)
    response = await client_for(member).post(ONE, json={"context": {"targetingKey": KS_MEMBER}})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_CONTEXT"


async def test_last_used_is_written_once_a_minute_not_per_request(
    gateway: GatewayState, client_for: Client
) -> None:
    # given
    key = await _key(gateway, tenant=world.YEN_MO)
    body = {"context": {"targetingKey": YM_MEMBER}}
    # when
    first = await client_for(key).post(ONE, json=body)
    gateway.clock = lambda: NOW + dt.timedelta(seconds=5)
    second = await client_for(key).post(ONE, json=body)
    # then
    assert (first.status_code, second.status_code) == (200, 200)
    async with gateway.sessionmaker() as session:
        credential = await service.get(session=session, credential_id=_id(key))
    assert credential is not None
    assert credential.last_used_at == NOW


@pytest.mark.parametrize(
    ("tenant", "name", "expires_at", "error"),
    [
        (world.YEN_MO, "  ", None, InvalidCredentialInput),
        (world.YEN_MO, "x" * 201, None, InvalidCredentialInput),
        (world.YEN_MO, "portal", NOW - dt.timedelta(days=1), InvalidCredentialInput),
        (world.YEN_MO, "portal", NOW, InvalidCredentialInput),
        ("no-such-tenant", "portal", None, TenantNotFound),
        (world.DUY_TIEN, "portal", None, TenantNotFound),  # a tenant of another province
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    gateway: GatewayState,
    tenant: str,
    name: str,
    expires_at: dt.datetime | None,
    error: type[Exception],
) -> None:
    before = await _count(gateway)
    with pytest.raises(error) as raised:
        async with gateway.sessionmaker() as session, session.begin():
            await service.create(
                session=session,
                province_id=world.PROVINCE,
                tenant_id=tenant,
                name=name,
                expires_at=expires_at,
                now=NOW,
            )
    assert getattr(raised.value, "code", None) in ("INVALID_CREDENTIAL_INPUT", "TENANT_NOT_FOUND")
    assert await _count(gateway) == before
