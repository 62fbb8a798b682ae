"""A tenant read by slug answers its own nested data, only for roles that cover the tenant."""

from __future__ import annotations

import pytest

from rollout import flags
from rollout.flag_catalogue import FlagKey
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql

TENANT_BY_SLUG = """
query($slug: String!) {
  tenant(slug: $slug) {
    slug
    branches {
      name memberCount organisation { name }
      members(first: 10) { totalCount edges { node { fullName branch { name } } } }
      meetings(when: ALL) { title branch { name } }
      draftResolutions { title comments { body author { fullName } } }
    }
  }
}
"""
BOTH_TENANTS = """
{
  ym: tenant(slug: "yen-mo") { branches { name members { totalCount } meetings { title } } }
  ks: tenant(slug: "kim-son") { branches { name members { totalCount } meetings { title } } }
}
"""
OWN_BRANCHES = "{ tenant { slug branches { name } } }"
KIM_SON = {
    "slug": "kim-son",
    "branches": [
        {
            "name": "Chi bộ xóm 5",
            "memberCount": 2,
            "organisation": {"name": "Đảng bộ xã Kim Chính"},
            "members": {
                "totalCount": 2,
                "edges": [
                    {"node": {"fullName": "Bùi Văn Sơn", "branch": {"name": "Chi bộ xóm 5"}}},
                    {"node": {"fullName": "Vũ Thị Lan", "branch": {"name": "Chi bộ xóm 5"}}},
                ],
            },
            "meetings": [
                {"title": "Sinh hoạt chi bộ xóm 5", "branch": {"name": "Chi bộ xóm 5"}},
            ],
            "draftResolutions": [
                {
                    "title": "Dự thảo Kim Sơn",
                    "comments": [{"body": "Ý kiến Kim Sơn", "author": {"fullName": "Bùi Văn Sơn"}}],
                },
            ],
        }
    ],
}


def province_client(client_for, token, role=Role.PROVINCE_ADMIN, acting_on=world.YEN_MO):
    """A province role acting on ``acting_on`` (None: on no tenant), as the console sends it."""
    headers = {"X-Tenant": acting_on} if acting_on else None
    return client_for(token(role, subject=f"{role.value}-1"), headers=headers)


@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR])
@pytest.mark.parametrize("acting_on", [world.YEN_MO, None])
async def test_province_role_reads_another_tenants_nested_data(client_for, token, role, acting_on):
    # given: a province role whose request acts on Yen Mo (or on no tenant)
    client = province_client(client_for, token, role, acting_on)
    # when: it reads Kim Son by slug, down to members, meetings and comments
    status, body = await gql(client, TENANT_BY_SLUG, {"slug": world.KIM_SON})
    # then: Kim Son's own data, not the empty lists of Yen Mo's loaders
    assert status == 200, body
    assert "errors" not in body
    assert body["data"]["tenant"] == KIM_SON


async def test_two_tenants_in_one_query_each_get_their_own_data(client_for, token):
    # given
    client = province_client(client_for, token)
    # when: both tenants resolve side by side in one request
    status, body = await gql(client, BOTH_TENANTS)
    # then
    assert status == 200, body
    assert body["data"] == {
        "ym": {
            "branches": [
                {
                    "name": "Chi bộ thôn 1",
                    "members": {"totalCount": 3},
                    "meetings": [{"title": "Sinh hoạt chi bộ tháng 12"}],
                },
                {
                    "name": "Chi bộ thôn 2",
                    "members": {"totalCount": 2},
                    "meetings": [{"title": "Sinh hoạt chi bộ thôn 2"}],
                },
            ]
        },
        "ks": {
            "branches": [
                {
                    "name": "Chi bộ xóm 5",
                    "members": {"totalCount": 2},
                    "meetings": [{"title": "Sinh hoạt chi bộ xóm 5"}],
                },
            ]
        },
    }


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.BRANCH_SECRETARY, Role.MEMBER])
async def test_tenant_roles_cannot_read_another_tenant_by_slug(client_for, token, role):
    # given: a Yen Mo role
    client = client_for(token(role, tenant=world.YEN_MO, subject=str(world.YM_SECRETARY_A)))
    # when
    status, body = await gql(client, TENANT_BY_SLUG, {"slug": world.KIM_SON})
    # then
    assert status == 200
    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN_TENANT"]
    assert body["errors"][0]["message"] == "Your role does not cover tenant 'kim-son'."


async def test_member_reads_only_own_branch_of_own_tenant(client_for, token):
    # given
    member = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    admin = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    _, as_member = await gql(member, OWN_BRANCHES)
    _, as_admin = await gql(admin, OWN_BRANCHES)
    # then: as on Query.branches
    assert as_member == {
        "data": {"tenant": {"slug": "yen-mo", "branches": [{"name": "Chi bộ thôn 1"}]}}
    }
    assert as_admin == {
        "data": {
            "tenant": {
                "slug": "yen-mo",
                "branches": [{"name": "Chi bộ thôn 1"}, {"name": "Chi bộ thôn 2"}],
            }
        }
    }


async def test_handbook_off_in_the_tenant_read_is_feature_disabled(gateway, client_for, token):
    # given: the handbook off in Kim Son only
    async with gateway.sessionmaker() as session:
        await flags.set_override(
            session=session,
            province_id="ninh-binh",
            key=FlagKey.HANDBOOK.value,
            tenant_id=world.KIM_SON,
            variant="off",
            actor="province-admin-1",
            reason="not yet",
            now=world.NOW,
        )
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)
    client = province_client(client_for, token)
    # when: a province admin acting on Yen Mo reads Kim Son's branches, then Yen Mo's
    _, kim_son = await gql(client, TENANT_BY_SLUG, {"slug": world.KIM_SON})
    status, yen_mo = await gql(client, OWN_BRANCHES)
    # then
    assert kim_son["data"] is None
    assert error_codes(kim_son) == ["FEATURE_DISABLED"]
    assert kim_son["errors"][0]["message"] == "The feature 'handbook' is not enabled for you yet."
    assert status == 200
    assert len(yen_mo["data"]["tenant"]["branches"]) == 2
