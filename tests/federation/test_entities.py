"""PilotGraph as a subgraph: entity references and tenant(slug:) keep every tenancy rule."""

from __future__ import annotations

import pytest

from gateway.settings import Settings
from schema.relay import encode_id
from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.graphql import error_codes, gql

TENANT_BY_SLUG = "query($slug: String!) { tenant(slug: $slug) { slug name memberCount } }"
ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Tenant { slug memberCount }
    ... on Member { fullName }
    ... on Branch { name }
    ... on Meeting { title }
  }
}
"""
SERVICE = "{ _service { sdl } }"
HERE_AND_THERE = """
query($slug: String!) {
  here: tenant { memberCount }
  there: tenant(slug: $slug) { memberCount }
}
"""


@pytest.fixture
def settings(database) -> Settings:
    """Development with no router token configured: the router fields are open."""
    return make_settings(database, router_token=None)


def ym_member(token, role=Role.MEMBER, subject=world.YM_MEMBER_A):
    return token(role, tenant=world.YEN_MO, subject=str(subject))


def ref(type_name, **key):
    return {"__typename": type_name, **key}


async def test_a_member_reads_own_tenant_by_slug(client_for, token):
    # given
    client = client_for(ym_member(token))
    # when
    status, body = await gql(client, TENANT_BY_SLUG, {"slug": world.YEN_MO})
    # then
    assert status == 200
    assert body["data"]["tenant"] == {
        "slug": "yen-mo",
        "name": "Đảng bộ huyện Yên Mô",
        "memberCount": 5,
    }


async def test_a_yen_mo_member_cannot_read_kim_son_by_slug(client_for, token):
    # given
    client = client_for(ym_member(token))
    # when
    _, body = await gql(client, TENANT_BY_SLUG, {"slug": world.KIM_SON})
    # then
    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN_TENANT"]
    assert body["errors"][0]["message"] == "Your role does not cover tenant 'kim-son'."


async def test_a_province_admin_reads_any_tenant_by_slug_with_its_own_rows(client_for, token):
    # given: no tenant selected by path or header
    client = client_for(token(Role.PROVINCE_ADMIN))
    # when
    _, kim_son = await gql(client, TENANT_BY_SLUG, {"slug": world.KIM_SON})
    _, yen_mo = await gql(client, TENANT_BY_SLUG, {"slug": world.YEN_MO})
    # then
    assert kim_son["data"]["tenant"]["memberCount"] == 2
    assert yen_mo["data"]["tenant"]["memberCount"] == 5


async def test_a_province_admin_on_one_tenant_reads_another_by_slug(client_for, token):
    # given: the request acts on Yen Mo, the field names Kim Son
    client = client_for(token(Role.PROVINCE_ADMIN), headers={"X-Tenant": world.YEN_MO})
    # when
    _, body = await gql(client, HERE_AND_THERE, {"slug": world.KIM_SON})
    # then
    assert body == {"data": {"here": {"memberCount": 5}, "there": {"memberCount": 2}}}


async def test_an_unknown_slug_is_not_found(client_for, token):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    # when
    _, body = await gql(client, TENANT_BY_SLUG, {"slug": "atlantis"})
    # then
    assert error_codes(body) == ["TENANT_NOT_FOUND"]
    assert body["errors"][0]["message"] == "Tenant 'atlantis' does not exist."


async def test_without_a_token_tenant_by_slug_is_unauthenticated(client_for):
    # given
    client = client_for()
    # when
    _, body = await gql(client, TENANT_BY_SLUG, {"slug": world.YEN_MO})
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_tenant_references_resolve_only_for_covered_tenants(client_for, token):
    # given
    client = client_for(ym_member(token))
    representations = [ref("Tenant", slug=world.YEN_MO), ref("Tenant", slug=world.KIM_SON)]
    # when
    status, body = await gql(client, ENTITIES, {"representations": representations})
    # then
    assert status == 200
    assert body["data"]["_entities"] == [
        {"__typename": "Tenant", "slug": "yen-mo", "memberCount": 5},
        None,
    ]
    assert error_codes(body) == ["FORBIDDEN_TENANT"]
    assert body["errors"][0]["path"] == ["_entities", 1]


async def test_a_province_admin_resolves_references_to_any_tenant(client_for, token):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    representations = [ref("Tenant", slug=world.KIM_SON)]
    # when
    _, body = await gql(client, ENTITIES, {"representations": representations})
    # then
    assert "errors" not in body
    assert body["data"]["_entities"] == [
        {"__typename": "Tenant", "slug": "kim-son", "memberCount": 2}
    ]


async def test_a_reference_to_another_tenants_member_is_null_with_an_error(client_for, token):
    # given
    client = client_for(ym_member(token))
    kim_son_member = encode_id("Member", world.KS_MEMBER)
    representations = [
        ref("Member", id=encode_id("Member", world.YM_MEMBER_A2)),
        ref("Member", id=kim_son_member),
    ]
    # when
    _, body = await gql(client, ENTITIES, {"representations": representations})
    # then
    assert body["data"]["_entities"] == [{"__typename": "Member", "fullName": "Lê Đức Cường"}, None]
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["message"] == f"Member '{kim_son_member}' was not found."


async def test_member_references_keep_the_branch_scope(client_for, token):
    # given: a plain member of branch A, and a tenant admin
    other_branch = [ref("Member", id=encode_id("Member", world.YM_MEMBER_B))]
    member = client_for(ym_member(token))
    admin = client_for(ym_member(token, Role.TENANT_ADMIN, subject="admin"))
    # when
    _, as_member = await gql(member, ENTITIES, {"representations": other_branch})
    _, as_admin = await gql(admin, ENTITIES, {"representations": other_branch})
    # then
    assert as_member["data"]["_entities"] == [None]
    assert error_codes(as_member) == ["NOT_FOUND"]
    assert as_admin["data"]["_entities"] == [{"__typename": "Member", "fullName": "Đỗ Minh Khánh"}]


async def test_branch_and_meeting_references_stay_in_the_tenant(client_for, token):
    # given
    client = client_for(ym_member(token))
    representations = [
        ref("Branch", id=encode_id("Branch", world.YM_BRANCH_A)),
        ref("Branch", id=encode_id("Branch", world.KS_BRANCH)),
        ref("Meeting", id=encode_id("Meeting", world.YM_UPCOMING_A)),
        ref("Meeting", id=encode_id("Meeting", world.KS_UPCOMING)),
    ]
    # when
    _, body = await gql(client, ENTITIES, {"representations": representations})
    # then
    assert body["data"]["_entities"] == [
        {"__typename": "Branch", "name": "Chi bộ thôn 1"},
        None,
        {"__typename": "Meeting", "title": "Sinh hoạt chi bộ tháng 12"},
        None,
    ]
    assert error_codes(body) == ["NOT_FOUND", "NOT_FOUND"]


async def test_a_malformed_reference_id_is_invalid(client_for, token):
    # given
    client = client_for(ym_member(token))
    # when
    _, body = await gql(client, ENTITIES, {"representations": [ref("Member", id="nope")]})
    # then
    assert body["data"]["_entities"] == [None]
    assert error_codes(body) == ["INVALID_ID"]


async def test_references_without_a_token_are_unauthenticated(client_for):
    # given
    client = client_for(headers={"X-Tenant": world.YEN_MO})
    representations = [ref("Member", id=encode_id("Member", world.YM_MEMBER_A))]
    # when
    _, body = await gql(client, ENTITIES, {"representations": representations})
    # then
    assert body["data"]["_entities"] == [None]
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_the_service_sdl_declares_the_entity_keys(client_for):
    # given: development with no router token configured
    client = client_for()
    # when
    _, body = await gql(client, SERVICE)
    # then
    sdl = body["data"]["_service"]["sdl"]
    assert 'type Tenant @key(fields: "slug")' in sdl
    for type_name in ("Member", "Branch", "Meeting"):
        assert f'type {type_name} @key(fields: "id")' in sdl
