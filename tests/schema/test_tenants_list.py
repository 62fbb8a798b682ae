"""``tenants(slugs:)``: several tenants by slug in one field, each checked as ``tenant(slug:)``."""

from __future__ import annotations

import pytest

from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql

TENANTS = "query($slugs: [String!]!) { tenants(slugs: $slugs) { slug name memberCount } }"
YEN_MO = {"slug": world.YEN_MO, "name": "Đảng bộ huyện Yên Mô", "memberCount": 5}
KIM_SON = {"slug": world.KIM_SON, "name": "Đảng bộ huyện Kim Sơn", "memberCount": 2}


@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR])
async def test_a_province_role_reads_its_tenants_in_the_order_named(client_for, token, role):
    # given
    client = client_for(token(role, subject=f"{role.value}-1"))
    # when: Kim Son first, Yen Mo named twice
    slugs = [world.KIM_SON, world.YEN_MO, world.YEN_MO]
    status, body = await gql(client, TENANTS, {"slugs": slugs})
    # then: each tenant once, in the order first named, with its own figures
    assert status == 200, body
    assert body == {"data": {"tenants": [KIM_SON, YEN_MO]}}


async def test_a_tenant_admin_reads_its_own_tenant(client_for, token):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    _, body = await gql(client, TENANTS, {"slugs": [world.YEN_MO]})
    # then
    assert body == {"data": {"tenants": [YEN_MO]}}


async def test_an_empty_list_answers_no_tenant(client_for, token):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    # when
    _, body = await gql(client, TENANTS, {"slugs": []})
    # then
    assert body == {"data": {"tenants": []}}


@pytest.mark.parametrize(
    ("role", "tenant", "slugs", "code", "message"),
    [
        (
            Role.TENANT_ADMIN,
            world.YEN_MO,
            [world.YEN_MO, world.KIM_SON],
            "FORBIDDEN_TENANT",
            "Your role does not cover tenant 'kim-son'.",
        ),
        (
            Role.PROVINCE_ADMIN,
            None,
            [world.YEN_MO, world.DUY_TIEN],
            "FORBIDDEN_TENANT",
            "Your role does not cover tenant 'duy-tien'.",
        ),
        (
            Role.PROVINCE_ADMIN,
            None,
            [world.YEN_MO, "nowhere"],
            "TENANT_NOT_FOUND",
            "Tenant 'nowhere' does not exist.",
        ),
        (
            Role.PROVINCE_ADMIN,
            None,
            [f"t{i}" for i in range(101)],
            "BAD_USER_INPUT",
            "Name at most 100 tenants; got 101.",
        ),
    ],
)
async def test_a_list_with_one_tenant_out_of_reach_is_refused_whole(
    client_for, token, role, tenant, slugs, code, message
):
    # given
    client = client_for(token(role, tenant=tenant))
    # when
    status, body = await gql(client, TENANTS, {"slugs": slugs})
    # then: nothing of the covered tenants leaks beside the refusal
    assert status == 200
    assert body["data"] is None
    assert error_codes(body) == [code]
    assert body["errors"][0]["message"] == message


async def test_without_a_token_nothing_is_read(client_for):
    # when
    _, body = await gql(client_for(), TENANTS, {"slugs": [world.YEN_MO]})
    # then
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
