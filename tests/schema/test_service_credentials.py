"""Service credentials in GraphQL: who may manage them (every role), bad input, list, revoke.

Run on SQLite and PostgreSQL (as the app role); cases are generated from the role table.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.state import GatewayState
from tenants.credentials.models import ServiceCredential
from tenants.permissions import ROLE_PERMISSIONS, Permission
from tenants.types import PROVINCE_ROLES, Role
from tests import world
from tests.conftest import Client, TokenFactory
from tests.graphql import error_codes, gql
from tests.world import NOW

CREATE = """
mutation ($name: String!, $tenant: String, $expiresAt: DateTime) {
  createServiceCredential(name: $name, tenant: $tenant, expiresAt: $expiresAt) {
    key credential { id name tenant expiresAt revokedAt lastUsedAt }
    errors { field code message }
  }
}"""
REVOKE = """
mutation ($id: ID!) {
  revokeServiceCredential(id: $id) { credential { id revokedAt } errors { code message } }
}"""
LIST = "{ serviceCredentials { id name tenant revokedAt } }"
ONE = "/ofrep/v1/evaluate/flags/handbook"
ROLES = [
    pytest.param(role, Permission.MANAGE_SERVICE_CREDENTIALS in perms, id=role.value)
    for role, perms in ROLE_PERMISSIONS.items()
]


def _admin(token: TokenFactory, province: str = world.PROVINCE) -> str:
    return token(Role.PROVINCE_ADMIN, province=province, subject="admin")


async def _count(gateway: GatewayState) -> int:
    async with gateway.sessionmaker() as session:
        return len(list(await session.scalars(ServiceCredential.__table__.select())))


def test_only_province_admins_are_granted_it() -> None:
    # the table drives the generated cases below; this pins the table itself
    granted = {r for r, p in ROLE_PERMISSIONS.items() if Permission.MANAGE_SERVICE_CREDENTIALS in p}
    assert granted == {Role.PROVINCE_ADMIN}


@pytest.mark.parametrize(("role", "allowed"), ROLES)
async def test_only_roles_granted_it_manage_credentials(
    gateway: GatewayState, client_for: Client, token: TokenFactory, role: Role, allowed: bool
) -> None:
    # given
    tenant = None if role in PROVINCE_ROLES else world.YEN_MO
    client = client_for(token(role, tenant=tenant, subject="someone"))
    before = await _count(gateway)
    # when
    _, created = await gql(client, CREATE, {"name": "portal", "tenant": world.YEN_MO})
    _, listed = await gql(client, LIST)
    _, revoked = await gql(client, REVOKE, {"id": "0123456789ab"})
    # then
    if allowed:
        assert created["data"]["createServiceCredential"]["key"].startswith("pgk_")
        assert [c["name"] for c in listed["data"]["serviceCredentials"]] == ["portal"]
        assert error_codes(revoked) == []
        assert revoked["data"]["revokeServiceCredential"]["errors"][0]["code"] == (
            "CREDENTIAL_NOT_FOUND"
        )
        assert await _count(gateway) == before + 1
    else:
        for body in (created, listed, revoked):
            assert error_codes(body) == ["FORBIDDEN"]
        assert await _count(gateway) == before


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [
        ({"name": ""}, "name", "INVALID_CREDENTIAL_INPUT"),
        ({"name": "   "}, "name", "INVALID_CREDENTIAL_INPUT"),
        (
            {"name": "p", "expiresAt": "2026-11-24T00:00:00+00:00"},
            "expiresAt",
            "INVALID_CREDENTIAL_INPUT",
        ),
        ({"name": "p", "tenant": "no-such"}, None, "TENANT_NOT_FOUND"),
        ({"name": "p", "tenant": world.DUY_TIEN}, None, "TENANT_NOT_FOUND"),
    ],
)
async def test_bad_input_is_a_coded_error_and_nothing_is_written(
    gateway: GatewayState,
    client_for: Client,
    token: TokenFactory,
    variables: dict[str, str],
    field: str | None,
    code: str,
) -> None:
    before = await _count(gateway)
    _, body = await gql(client_for(_admin(token)), CREATE, variables)
    payload = body["data"]["createServiceCredential"]
    assert payload["key"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert payload["errors"][0]["message"]
    assert await _count(gateway) == before


async def test_a_key_created_revoked_and_listed_without_its_secret(
    gateway: GatewayState, client_for: Client, token: TokenFactory
) -> None:
    # given
    admin = client_for(_admin(token))
    expires = (NOW + dt.timedelta(days=30)).isoformat()
    _, body = await gql(admin, CREATE, {"name": "portal", "expiresAt": expires})
    created = body["data"]["createServiceCredential"]
    key, credential_id = created["key"], created["credential"]["id"]
    ofrep = {"context": {"targetingKey": str(world.YM_MEMBER_A)}}
    # when
    before = await client_for(key).post("/t/yen-mo" + ONE, json=ofrep)
    _, revoked = await gql(admin, REVOKE, {"id": credential_id})
    after = await client_for(key).post("/t/yen-mo" + ONE, json=ofrep)
    _, listed = await gql(admin, LIST)
    _, other = await gql(client_for(_admin(token, world.OTHER_PROVINCE)), LIST)
    # then
    assert before.status_code == 200
    assert revoked["data"]["revokeServiceCredential"]["credential"]["revokedAt"] is not None
    assert after.status_code == 401  # at once on this replica: its held entry was dropped
    assert after.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert after.json()["errors"][0]["message"] == "The service credential is revoked or expired."
    assert key.removeprefix("pgk_").partition("_")[2] not in str(listed)  # the whole secret
    assert listed["data"]["serviceCredentials"][0]["id"] == credential_id
    assert other["data"]["serviceCredentials"] == []
