"""Every handbook query: data, permissions, and that tenant A never sees tenant B."""

from __future__ import annotations

import pytest

from schema.relay import encode_id
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql

HOME = """
query {
  me { fullName position branch { name } }
  tenant { slug name kind province { slug timezone } memberCount organisationCount }
  meetings(when: UPCOMING) { title place status branch { name } }
  notices { title kind branch { name } }
  documents { number title issuedOn }
}
"""
BRANCHES = "{ branches { name memberCount organisation { name } } }"
BRANCH = "query($id: ID!) { branch(id: $id) { name meetings(when: ALL) { title } } }"
MEMBERS = """
query($first: Int!, $after: String, $branchId: ID, $search: String) {
  members(first: $first, after: $after, branchId: $branchId, search: $search) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { fullName } }
  }
}
"""
BELIEVER = "{ members(first: 5) { edges { node { fullName isReligiousBeliever } } } }"
PAST_MEETINGS = "{ meetings(when: PAST) { title attendance { status member { fullName } } } }"
DRAFTS = "{ branches { draftResolutions { title status comments { body author { fullName } } } } }"


def member_token(token, subject=world.YM_MEMBER_A, tenant=world.YEN_MO, role=Role.MEMBER):
    return token(role, tenant=tenant, subject=str(subject))


async def test_member_home_shows_own_tenant_branch_and_meetings(client_for, token):
    # given
    client = client_for(member_token(token))
    # when
    status, body = await gql(client, HOME)
    # then
    assert status == 200, body
    data = body["data"]
    assert data["me"] == {
        "fullName": "Trần Thị Bình",
        "position": "Đảng viên",
        "branch": {"name": "Chi bộ thôn 1"},
    }
    assert data["tenant"] == {
        "slug": "yen-mo",
        "name": "Đảng bộ huyện Yên Mô",
        "kind": "DISTRICT",
        "province": {"slug": "ninh-binh", "timezone": "Asia/Ho_Chi_Minh"},
        "memberCount": 5,
        "organisationCount": 1,
    }
    assert data["meetings"] == [
        {
            "title": "Sinh hoạt chi bộ tháng 12",
            "place": "Nhà văn hóa thôn",
            "status": "SCHEDULED",
            "branch": {"name": "Chi bộ thôn 1"},
        },
    ]
    assert data["notices"] == [
        {"title": "Cài đặt sổ tay đảng viên", "kind": "PARTY_TASK", "branch": None}
    ]
    assert data["documents"] == [
        {"number": "21-NQ/TW", "title": "Nghị quyết 21-NQ/TW", "issuedOn": "2022-06-16"}
    ]


async def test_member_sees_only_own_branch(client_for, token):
    # given
    client = client_for(member_token(token))
    # when
    status, body = await gql(client, BRANCHES)
    # then
    assert status == 200
    assert body["data"]["branches"] == [
        {
            "name": "Chi bộ thôn 1",
            "memberCount": 3,
            "organisation": {"name": "Đảng bộ xã Yên Phong"},
        },
    ]


async def test_tenant_admin_sees_every_branch_and_notice(client_for, token):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    _, branches = await gql(client, BRANCHES)
    _, notices = await gql(client, "{ notices { title } }")
    # then
    assert [b["name"] for b in branches["data"]["branches"]] == ["Chi bộ thôn 1", "Chi bộ thôn 2"]
    assert [n["title"] for n in notices["data"]["notices"]] == [
        "Cài đặt sổ tay đảng viên",
        "Thủy lợi thôn 2",
    ]


async def test_branch_by_id_and_other_branch_is_null(client_for, token):
    # given
    client = client_for(member_token(token))
    own, other = encode_id("Branch", world.YM_BRANCH_A), encode_id("Branch", world.YM_BRANCH_B)
    # when
    _, own_body = await gql(client, BRANCH, {"id": own})
    _, other_body = await gql(client, BRANCH, {"id": other})
    # then
    assert own_body["data"]["branch"] == {
        "name": "Chi bộ thôn 1",
        "meetings": [
            {"title": "Sinh hoạt chi bộ tháng 12"},
            {"title": "Sinh hoạt chi bộ tháng 11"},
        ],
    }
    assert other_body["data"]["branch"] is None


async def test_kim_son_branch_id_is_not_found_from_yen_mo(client_for, token):
    # given: a province admin acting on Yen Mo asks for Kim Son's branch by its real id
    client = client_for(token(Role.PROVINCE_ADMIN), headers={"X-Tenant": world.YEN_MO})
    # when
    status, body = await gql(client, BRANCH, {"id": encode_id("Branch", world.KS_BRANCH)})
    # then
    assert status == 200
    assert body["data"]["branch"] is None


async def test_malformed_id_is_invalid_id(client_for, token):
    # given
    client = client_for(member_token(token))
    # when
    _, body = await gql(client, BRANCH, {"id": "not-an-id"})
    _, wrong_type = await gql(client, BRANCH, {"id": encode_id("Member", world.YM_MEMBER_A)})
    # then
    assert error_codes(body) == ["INVALID_ID"]
    assert body["errors"][0]["message"] == "'not-an-id' is not a Branch ID."
    assert error_codes(wrong_type) == ["INVALID_ID"]


async def test_members_pages_by_name_with_cursor(client_for, token):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    _, first = await gql(client, MEMBERS, {"first": 2})
    cursor = first["data"]["members"]["pageInfo"]["endCursor"]
    _, second = await gql(client, MEMBERS, {"first": 2, "after": cursor})
    _, last = await gql(
        client, MEMBERS, {"first": 2, "after": second["data"]["members"]["pageInfo"]["endCursor"]}
    )
    # then
    names = [
        [e["node"]["fullName"] for e in page["data"]["members"]["edges"]]
        for page in (first, second, last)
    ]
    assert names == [
        ["Lê Đức Cường", "Nguyễn Văn An"],
        ["Phạm Thu Hà", "Trần Thị Bình"],
        ["Đỗ Minh Khánh"],
    ]
    assert first["data"]["members"]["totalCount"] == 5
    assert first["data"]["members"]["pageInfo"]["hasNextPage"] is True
    assert last["data"]["members"]["pageInfo"]["hasNextPage"] is False


async def test_members_filters_by_search_and_branch(client_for, token):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    branch_b = encode_id("Branch", world.YM_BRANCH_B)
    # when
    _, search = await gql(client, MEMBERS, {"first": 10, "search": "Thu Hà"})
    _, branch = await gql(client, MEMBERS, {"first": 10, "branchId": branch_b})
    # then
    assert search["data"]["members"]["totalCount"] == 1
    assert branch["data"]["members"]["totalCount"] == 2


async def test_member_lists_only_own_branch_members(client_for, token):
    # given
    client = client_for(member_token(token))
    branch_b = encode_id("Branch", world.YM_BRANCH_B)
    # when
    _, own = await gql(client, MEMBERS, {"first": 10})
    _, other = await gql(client, MEMBERS, {"first": 10, "branchId": branch_b})
    # then
    assert own["data"]["members"]["totalCount"] == 3
    assert error_codes(other) == ["FORBIDDEN"]
    assert other["errors"][0]["message"] == "You may only list your own branch's members."


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_first_out_of_range_is_bad_user_input(client_for, token, first):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    _, body = await gql(client, MEMBERS, {"first": first})
    # then
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == f"'first' must be between 1 and 100; got {first}."


async def test_malformed_cursor_is_invalid_id(client_for, token):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    _, body = await gql(client, MEMBERS, {"first": 2, "after": "%%%"})
    # then
    assert error_codes(body) == ["INVALID_ID"]
    assert body["errors"][0]["message"] == "The 'after' cursor is malformed."


async def test_religious_believer_flag_needs_member_details_permission(client_for, token):
    # given
    secretary = client_for(member_token(token, world.YM_SECRETARY_A, role=Role.BRANCH_SECRETARY))
    member = client_for(member_token(token))
    # when
    _, allowed = await gql(secretary, BELIEVER)
    _, refused = await gql(member, BELIEVER)
    # then
    assert {
        e["node"]["fullName"]: e["node"]["isReligiousBeliever"]
        for e in allowed["data"]["members"]["edges"]
    }["Nguyễn Văn An"] is True
    assert "FORBIDDEN" in error_codes(refused)
    assert refused["data"] is None


async def test_past_meetings_with_attendance(client_for, token):
    # given
    client = client_for(member_token(token))
    # when
    _, body = await gql(client, PAST_MEETINGS)
    # then
    assert body["data"]["meetings"] == [
        {
            "title": "Sinh hoạt chi bộ tháng 11",
            "attendance": [{"status": "PRESENT", "member": {"fullName": "Trần Thị Bình"}}],
        },
    ]


async def test_draft_resolutions_with_comments(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.KIM_SON, subject=str(world.KS_MEMBER)))
    # when
    _, body = await gql(client, DRAFTS)
    # then
    assert body["data"]["branches"] == [
        {
            "draftResolutions": [
                {
                    "title": "Dự thảo Kim Sơn",
                    "status": "OPEN",
                    "comments": [{"body": "Ý kiến Kim Sơn", "author": {"fullName": "Bùi Văn Sơn"}}],
                },
            ]
        }
    ]


async def test_documents_search(client_for, token):
    # given
    client = client_for(member_token(token))
    # when
    _, hit = await gql(client, '{ documents(search: "21-NQ") { number } }')
    _, miss = await gql(client, '{ documents(search: "99-XX") { number } }')
    # then
    assert hit["data"]["documents"] == [{"number": "21-NQ/TW"}]
    assert miss["data"]["documents"] == []


@pytest.mark.parametrize(
    "query",
    [
        HOME,
        BRANCHES,
        BELIEVER,
        PAST_MEETINGS,
        DRAFTS,
        "{ notices { title } }",
        "{ documents { number } }",
    ],
)
async def test_province_admin_on_kim_son_sees_no_yen_mo_data(client_for, token, query):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN), headers={"X-Tenant": world.KIM_SON})
    # when
    status, body = await gql(client, query)
    # then
    assert status == 200, body
    text = str(body)
    for yen_mo_value in ("Yên Mô", "thôn 1", "Trần Thị Bình", "21-NQ/TW", "Cài đặt sổ tay"):
        assert yen_mo_value not in text


async def test_anonymous_gets_unauthenticated(client_for):
    # given
    client = client_for()
    # when
    status, body = await gql(client, "{ me { fullName } }", path="/t/yen-mo/graphql")
    # then
    assert status == 200
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "Sign in: this field needs a bearer token."


async def test_province_admin_without_tenant_needs_one(client_for, token):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    # when
    _, body = await gql(client, "{ tenant { slug } }")
    # then
    assert error_codes(body) == ["TENANT_REQUIRED"]


async def test_over_long_search_is_bad_user_input(client_for, token):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    # when
    _, body = await gql(client, MEMBERS, {"first": 5, "search": "Nguyễn" * 20})
    # then
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "'search' is at most 100 characters; got 120."
