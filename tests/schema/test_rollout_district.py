"""A tenant admin's own district in a rollout (``districtRollout``) and its ramp's bounds."""

from __future__ import annotations

import pytest

from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.plan_world import KEY

DISTRICT = """
query($flag: String!) {
  districtRollout(flag: $flag) {
    flag tenant wave waveName percentage since state maximum version status
  }
}
"""
VERSION = "query($flag: String!) { rollout(flag: $flag) { version } }"
START = "mutation($flag: String!) { startRollout(flag: $flag) { errors { code } } }"
ADVANCE = """
mutation($flag: String!) { advanceRollout(flag: $flag, overrideReason: "ok") { errors { code } } }
"""
PAUSE = """
mutation($flag: String!) { pauseRollout(flag: $flag, reason: "holiday") { errors { code } } }
"""
RAMP = """
mutation($flag: String!, $percentage: Float!, $version: Int) {
  setTenantRamp(flag: $flag, percentage: $percentage, reason: "slower",
    expectedVersion: $version) { percentage errors { code message } }
}
"""


@pytest.fixture
def kim_son_admin(token, client_for):
    return client_for(token(Role.TENANT_ADMIN, tenant=world.KIM_SON, subject="ks-admin"))


async def run(client, document, **variables):
    status, body = await gql(client, document, {"flag": KEY, **variables})
    assert status == 200, body
    return body


async def test_a_tenant_admin_reads_their_district_and_how_far_they_may_ramp(
    plan, admin, kim_son_admin
):
    # given: Kim Son's wave at its first step (50%)
    await run(admin, START)
    await run(admin, ADVANCE)
    version = (await run(admin, VERSION))["data"]["rollout"]["version"]
    # when
    body = await run(kim_son_admin, DISTRICT)
    # then
    district = body["data"]["districtRollout"]
    assert district.pop("since") is not None
    assert district == {
        "flag": KEY,
        "tenant": world.KIM_SON,
        "wave": 1,
        "waveName": "wave 1",
        "percentage": 50.0,
        "state": "partial",
        "maximum": 50.0,
        "version": version,
        "status": "running",
    }


async def test_the_district_follows_its_own_ramp_and_stays_at_the_waves_maximum(
    plan, admin, kim_son_admin
):
    # given
    await run(admin, START)
    await run(admin, ADVANCE)
    version = (await run(kim_son_admin, DISTRICT))["data"]["districtRollout"]["version"]
    # when
    ramp = await run(kim_son_admin, RAMP, percentage=20.0, version=version)
    # then
    assert ramp["data"]["setTenantRamp"] == {"percentage": 20.0, "errors": []}
    district = (await run(kim_son_admin, DISTRICT))["data"]["districtRollout"]
    assert (district["percentage"], district["state"], district["maximum"]) == (
        20.0,
        "partial",
        50.0,
    )
    assert district["version"] == version  # a tenant's ramp leaves the plan's version alone


async def test_a_district_whose_wave_has_not_started_may_set_nothing(plan, admin, kim_son_admin):
    # given: the plan at the pilot; Kim Son is in wave 1
    await run(admin, START)
    # when
    body = await run(kim_son_admin, DISTRICT)
    # then
    district = body["data"]["districtRollout"]
    assert (district["wave"], district["waveName"], district["state"]) == (1, "wave 1", "off")
    assert (district["percentage"], district["maximum"], district["since"]) == (0.0, 0.0, None)


async def test_a_stale_version_is_refused_and_the_ramp_is_unchanged(plan, admin, kim_son_admin):
    # given: the admin saw a version, then the province paused the plan
    await run(admin, START)
    await run(admin, ADVANCE)
    seen = (await run(kim_son_admin, DISTRICT))["data"]["districtRollout"]["version"]
    await run(admin, PAUSE)
    # when
    body = await run(kim_son_admin, RAMP, percentage=10.0, version=seen)
    # then
    [error] = body["data"]["setTenantRamp"]["errors"]
    assert error["code"] == "VERSION_CONFLICT"
    district = (await run(kim_son_admin, DISTRICT))["data"]["districtRollout"]
    assert (district["percentage"], district["status"]) == (50.0, "paused")
    assert district["version"] == seen + 1


async def test_a_tenant_admin_reads_only_their_own_district(plan, admin, token, client_for):
    # given: a Kim Son admin's token, sent to Yen Mo's path
    await run(admin, START)
    kim_son = token(Role.TENANT_ADMIN, tenant=world.KIM_SON, subject="ks-admin")
    # when
    status, body = await gql(
        client_for(kim_son), DISTRICT, {"flag": KEY}, path=f"/t/{world.YEN_MO}/graphql"
    )
    # then
    assert (status, error_codes(body)) == (403, ["FORBIDDEN_TENANT"])
    assert "data" not in body


@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR, Role.MEMBER])
async def test_other_roles_have_no_district_to_ramp(plan, token, client_for, role):
    # given: each on Yen Mo (a province role selects it by path)
    tenant = world.YEN_MO if role is Role.MEMBER else None
    client = client_for(token(role, tenant=tenant))
    # when
    status, body = await gql(client, DISTRICT, {"flag": KEY}, path=f"/t/{world.YEN_MO}/graphql")
    # then
    assert (status, body["data"]) == (200, None)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == "Your role does not allow adjust tenant ramp."


async def test_a_flag_without_a_plan_is_refused(plan, kim_son_admin):
    # when
    status, body = await gql(kim_son_admin, DISTRICT, {"flag": "handbook.notices"})
    # then
    assert status == 200
    assert error_codes(body) == ["PLAN_NOT_FOUND"]
    assert body["errors"][0]["message"] == "The flag 'handbook.notices' has no rollout plan."
