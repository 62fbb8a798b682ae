"""Which tenant a request acts on: token claim, path, host or header — only when verified."""

from __future__ import annotations

import pytest

from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.graphql import error_codes, gql

TENANT = "{ tenant { slug } }"


async def test_member_acts_on_token_tenant(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    # when
    status, body = await gql(client, TENANT)
    # then
    assert status == 200
    assert body == {"data": {"tenant": {"slug": "yen-mo"}}}


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/t/kim-son/graphql", {}), ("/graphql", {"X-Tenant": "kim-son"})],
)
async def test_yen_mo_member_is_refused_kim_son(client_for, token, path, headers):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    # when
    status, body = await gql(client, TENANT, path=path, headers=headers)
    # then
    assert status == 403
    assert body == {
        "errors": [
            {
                "message": "Your role does not cover tenant 'kim-son'.",
                "extensions": {"code": "FORBIDDEN_TENANT"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/t/kim-son/graphql", {}), ("/graphql", {"X-Tenant": "kim-son"})],
)
async def test_province_admin_selects_any_tenant(client_for, token, path, headers):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    # when
    status, body = await gql(client, TENANT, path=path, headers=headers)
    # then
    assert status == 200
    assert body == {"data": {"tenant": {"slug": "kim-son"}}}


async def test_auditor_selects_tenant_read_only(client_for, token):
    # given
    client = client_for(token(Role.AUDITOR), headers={"X-Tenant": "kim-son"})
    # when
    _, read = await gql(client, "{ members(first: 5) { totalCount } }")
    _, write = await gql(
        client, 'mutation { cancelMeeting(input: {id: "x", reason: "y"}) { errors { code } } }'
    )
    # then
    assert read == {"data": {"members": {"totalCount": 2}}}
    assert error_codes(write) == ["FORBIDDEN"]


async def test_unknown_tenant_is_404(client_for, token):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    # when
    status, body = await gql(client, TENANT, path="/t/atlantis/graphql")
    # then
    assert status == 404
    assert body["errors"][0]["extensions"]["code"] == "TENANT_NOT_FOUND"
    assert body["errors"][0]["message"] == "Tenant 'atlantis' does not exist."


async def test_token_for_unknown_tenant_is_401(client_for, token):
    # given: a signed token whose tenant claim names no tenant (fails closed, like any bad claim)
    client = client_for(token(Role.MEMBER, tenant="atlantis"))
    # when
    status, body = await gql(client, TENANT)
    # then
    assert status == 401
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "The tenant claim names no known tenant."


async def test_bare_header_grants_nothing(client_for):
    # given: no token, only a header naming a tenant
    client = client_for(headers={"X-Tenant": "yen-mo"})
    # when
    status, body = await gql(client, "{ members(first: 5) { totalCount } }")
    # then
    assert status == 200
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_host_maps_tenant(database, gateway, client_for, token):
    # given: deployment maps {tenant}.handbook.example
    gateway.settings = make_settings(database, base_domain="handbook.example")
    client = client_for(token(Role.PROVINCE_ADMIN), headers={"Host": "kim-son.handbook.example"})
    member = client_for(
        token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)),
        headers={"Host": "kim-son.handbook.example"},
    )
    # when
    _, body = await gql(client, TENANT)
    status, refused = await gql(member, TENANT)
    # then
    assert body == {"data": {"tenant": {"slug": "kim-son"}}}
    assert status == 403
    assert error_codes(refused) == ["FORBIDDEN_TENANT"]


async def test_province_admin_of_other_province_is_refused(client_for, settings):
    # given: a province admin scoped to another province
    import jwt

    from gateway.settings import DEVELOPMENT_JWT_SECRET

    claims = {
        "sub": "admin",
        "roles": ["province_admin"],
        "province": "ha-nam",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": 4_000_000_000,
    }
    client = client_for(jwt.encode(claims, DEVELOPMENT_JWT_SECRET, algorithm="HS256"))
    # when
    status, body = await gql(client, TENANT, path="/t/yen-mo/graphql")
    # then
    assert status == 403
    assert error_codes(body) == ["FORBIDDEN_TENANT"]


async def test_health_needs_no_tenant(client_for):
    # given
    client = client_for(headers={"Authorization": "Bearer garbage"})
    # when
    live = await client.get("/healthz")
    ready = await client.get("/readyz")
    # then
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "tenants": 3}  # both provinces' tenants
