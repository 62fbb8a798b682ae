"""One version per flag everywhere: OFREP's metadata, GraphQL's payloads and the version that
``setFlagRules`` expects agree, from a flag nobody configured yet on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rollout.evaluation import catalogue_config, make_snapshot
from rollout.flag_catalogue import CATALOGUE, FIRST_VERSION, OFF, FlagKey
from tenants.types import Role
from tests import world
from tests.graphql import gql

ONE = "/ofrep/v1/evaluate/flags/{key}"
RULES = """
mutation($flag: String!, $version: Int!) {
  setFlagRules(flag: $flag, rules: [], expectedVersion: $version, reason: "first edit") {
    key version errors { code message }
  }
}
"""
OVERRIDE = """
mutation($flag: String!) {
  setFlagOverride(flag: $flag, tenant: "yen-mo", variant: "off", reason: "ask") {
    key version errors { code message }
  }
}
"""


@pytest.fixture
def member(token, client_for):
    return client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))


async def ofrep_version(member, key: str) -> int:
    response = await member.post(ONE.format(key=key), json={"context": {}})
    assert response.status_code == 200, response.text
    return int(response.json()["metadata"]["version"])


@pytest.mark.parametrize("key", [k.value for k in CATALOGUE])
async def test_an_unconfigured_flag_has_the_version_its_first_edit_expects(
    gateway, member, admin, key
):
    # given: nobody configured the flag
    unconfigured = await ofrep_version(member, key)
    # when: the first edit names the version OFREP reported
    status, body = await gql(admin, RULES, {"flag": key, "version": unconfigured})
    # then
    assert unconfigured == FIRST_VERSION
    assert status == 200
    assert body["data"]["setFlagRules"] == {
        "key": key,
        "version": FIRST_VERSION + 1,
        "errors": [],
    }
    assert await ofrep_version(member, key) == FIRST_VERSION + 1


@pytest.mark.parametrize("key", [k.value for k in CATALOGUE])
async def test_an_edit_without_expected_version_and_ofrep_agree(gateway, member, admin, key):
    # when
    _, body = await gql(admin, OVERRIDE, {"flag": key})
    # then
    payload = body["data"]["setFlagOverride"]
    assert (payload["errors"], payload["version"]) == ([], FIRST_VERSION + 1)
    assert await ofrep_version(member, key) == payload["version"]


def test_a_flag_created_off_at_the_first_version_changes_the_etag():
    # given: the registry's unconfigured flags, on
    unconfigured = make_snapshot({})
    key = FlagKey.HANDBOOK
    created_off = replace(catalogue_config(key), default_variant=OFF)
    # when
    configured = make_snapshot({key.value: created_off})
    # then: same version, another default: another ETag
    assert created_off.version == unconfigured.flags[key.value].version == FIRST_VERSION
    assert configured.etag != unconfigured.etag
