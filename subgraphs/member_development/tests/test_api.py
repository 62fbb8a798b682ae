"""The subgraph over HTTP: the figures, tenant isolation, and the router-only fields."""

from __future__ import annotations

import pytest

from member_development.settings import Settings
from tests.conftest import error_codes, gql, token

ENTITY = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Tenant { slug memberDevelopment(year: 2023) { plan admitted achievementRate
                    religiousBelievers meetsThreePercentRule } }
  }
}
"""
CANDIDATES = """
query($representations: [_Any!]!, $stage: CandidateStage) {
  _entities(representations: $representations) {
    ... on Tenant { memberDevelopment(year: 2023) {
      candidates(stage: $stage, first: 3) { totalCount nodes { fullName stage } }
      supplementaryClasses { name enrolled completed } } }
  }
}
"""
PROVINCE = """
{ provinceMemberDevelopment(province: "ninh-binh", year: 2023) {
    plan admitted achievementRate committees { tenant { slug } admitted } } }
"""
ROUTER_TOKEN = "router-secret-for-tests-0123456789"


def tenant_ref(slug):
    return {"representations": [{"__typename": "Tenant", "slug": slug}]}


async def test_a_nho_quan_member_reads_nho_quans_figures(client_for):
    # given
    client = client_for(token("member", tenant="nho-quan"))
    # when
    status, body = await gql(client, ENTITY, tenant_ref("nho-quan"))
    # then
    assert status == 200
    assert body == {
        "data": {
            "_entities": [
                {
                    "slug": "nho-quan",
                    "memberDevelopment": {
                        "plan": 293,
                        "admitted": 320,
                        "achievementRate": 109.22,
                        "religiousBelievers": 10,
                        "meetsThreePercentRule": True,
                    },
                }
            ]
        }
    }


async def test_a_yen_mo_member_cannot_read_kim_son(client_for):
    # given
    client = client_for(token("member", tenant="yen-mo"))
    # when
    _, body = await gql(client, ENTITY, tenant_ref("kim-son"))
    # then
    assert body["data"] == {"_entities": [{"slug": "kim-son", "memberDevelopment": None}]}
    assert error_codes(body) == ["FORBIDDEN_TENANT"]
    assert body["errors"][0]["message"] == "Your role does not cover tenant 'kim-son'."


async def test_a_province_admin_reads_any_tenant_of_the_province(client_for):
    # given
    client = client_for(token("province_admin", province="ninh-binh"))
    # when
    _, body = await gql(client, ENTITY, tenant_ref("kim-son"))
    # then
    assert body["data"]["_entities"][0]["memberDevelopment"]["admitted"] == 200


async def test_a_province_admin_of_another_province_is_refused(client_for):
    # given
    client = client_for(token("province_admin", province="thanh-hoa"))
    # when
    _, body = await gql(client, ENTITY, tenant_ref("kim-son"))
    # then
    assert error_codes(body) == ["FORBIDDEN_TENANT"]


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"province": ["ninh-binh"]}, "The province claim must be a non-empty string."),
        ({"province": ""}, "The province claim must be a non-empty string."),
        ({}, "The province claim is required for province roles."),
        (
            {"province": "ninh-binh", "exp": "9999999999"},
            "The exp claim must be a number of seconds since the epoch.",
        ),
    ],
)
async def test_a_malformed_province_claim_reads_nothing(client_for, claims, message):
    # given: claims that used to make a province admin of every province
    client = client_for(token("province_admin", **claims))
    # when
    status, body = await gql(client, ENTITY, tenant_ref("kim-son"))
    # then
    assert status == 401
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == message


async def test_without_a_token_the_figures_are_unauthenticated(client_for):
    # given
    client = client_for()
    # when
    _, body = await gql(client, ENTITY, tenant_ref("nho-quan"))
    # then
    assert body["data"]["_entities"][0]["memberDevelopment"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "bad",
    [
        token("member", tenant="yen-mo", iss="someone-else"),
        token("member", tenant="yen-mo", aud="other"),
        token("wizard", tenant="yen-mo"),
        "not-a-jwt",
    ],
)
async def test_a_bad_token_is_refused_with_401(client_for, bad):
    # given
    client = client_for(bad)
    # when
    status, body = await gql(client, ENTITY, tenant_ref("yen-mo"))
    # then
    assert status == 401
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_the_province_figures_need_a_province_role(client_for):
    # given
    admin = client_for(token("province_admin", province="ninh-binh"))
    member = client_for(token("tenant_admin", tenant="nho-quan"))
    # when
    _, as_admin = await gql(admin, PROVINCE)
    _, as_member = await gql(member, PROVINCE)
    # then
    figures = as_admin["data"]["provinceMemberDevelopment"]
    assert (figures["plan"], figures["admitted"], figures["achievementRate"]) == (
        2253,
        2360,
        104.75,
    )
    assert {"tenant": {"slug": "nho-quan"}, "admitted": 320} in figures["committees"]
    assert as_member["data"] == {"provinceMemberDevelopment": None}
    assert error_codes(as_member) == ["FORBIDDEN"]
    assert as_member["errors"][0]["message"] == "Your role does not cover province 'ninh-binh'."


async def test_candidates_are_for_admins_not_members(client_for):
    # given
    member = client_for(token("member", tenant="kim-son"))
    admin = client_for(token("tenant_admin", tenant="kim-son"))
    # when
    _, as_member = await gql(
        member, CANDIDATES, {**tenant_ref("kim-son"), "stage": "EDUCATION_MET"}
    )
    _, as_admin = await gql(admin, CANDIDATES, {**tenant_ref("kim-son"), "stage": "EDUCATION_MET"})
    # then
    assert error_codes(as_member) == ["FORBIDDEN"]
    development = as_admin["data"]["_entities"][0]["memberDevelopment"]
    assert development["candidates"]["totalCount"] == 16
    assert {node["stage"] for node in development["candidates"]["nodes"]} == {"EDUCATION_MET"}
    assert development["supplementaryClasses"] == [
        {"name": "Lớp bổ túc văn hóa THCS xã Kim Chính", "enrolled": 56, "completed": 56}
    ]


async def test_router_fields_need_the_router_token_when_one_is_set(engine):
    # given
    import httpx

    from member_development.app import create_app

    app = create_app(Settings(router_token=ROUTER_TOKEN), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://t") as anyone,
        httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"X-Router-Token": ROUTER_TOKEN}
        ) as router,
    ):
        # when
        refused = await anyone.post("/graphql", json={"query": "{ _service { sdl } }"})
        allowed = await router.post("/graphql", json={"query": "{ _service { sdl } }"})
    # then
    assert refused.status_code == 400
    assert error_codes(refused.json()) == ["ROUTER_CREDENTIAL_REQUIRED"]
    assert '@key(fields: "slug")' in allowed.json()["data"]["_service"]["sdl"]
