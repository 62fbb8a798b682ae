"""Handbook fields are gated by their flag: off answers FEATURE_DISABLED; ``features`` reports."""

from __future__ import annotations

import pytest

from rollout import flags
from rollout.flag_catalogue import FlagKey
from rollout.models import FlagState
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.plan_world import notices_for_branch_a

MEETINGS = "{ meetings(when: ALL) { title } }"
NOTICES = "{ notices { title } }"
BRANCHES = "{ branches { name } }"
FEATURES = "{ features { key enabled variant reason } }"
PUBLISH = """
mutation($input: PublishNoticeInput!) {
  publishNotice(input: $input) { notice { title } errors { code message } }
}
"""
KILL = """
mutation($flag: String!, $version: Int!) {
  setFlagState(flag: $flag, state: KILLED, expectedVersion: $version, reason: "incident") {
    key state version errors { code message }
  }
}
"""
ADMIN = "province-admin-1"


@pytest.fixture
def yen_mo_member(token, client_for):
    return client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))


@pytest.fixture
def kim_son_member(token, client_for):
    return client_for(token(Role.MEMBER, tenant=world.KIM_SON, subject=str(world.KS_MEMBER)))


async def configure(gateway, write):
    """Write flag configuration outside any request, then load it as a replica would."""
    async with gateway.sessionmaker() as session:
        await write(session)
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)


async def handbook_off_in_kim_son(session):
    await flags.set_override(
        session=session,
        province_id="ninh-binh",
        key=FlagKey.HANDBOOK.value,
        tenant_id=world.KIM_SON,
        variant="off",
        actor=ADMIN,
        reason="not yet",
        now=world.NOW,
    )


async def test_unconfigured_flags_are_on_in_the_test_world(yen_mo_member):
    # when
    status, body = await gql(yen_mo_member, FEATURES)
    # then
    assert status == 200
    assert body["data"]["features"] == [
        {"key": key.value, "enabled": True, "variant": "on", "reason": "STATIC"} for key in FlagKey
    ]


async def test_handbook_off_for_a_tenant_is_feature_disabled(
    gateway, kim_son_member, yen_mo_member
):
    # given
    await configure(gateway, handbook_off_in_kim_son)
    # when
    status, body = await gql(kim_son_member, BRANCHES)
    _, yen_mo = await gql(yen_mo_member, BRANCHES)
    # then: an error, not an empty list; Yen Mo unaffected
    assert status == 200
    assert body["data"] is None
    assert error_codes(body) == ["FEATURE_DISABLED"]
    assert body["errors"][0]["message"] == "The feature 'handbook' is not enabled for you yet."
    assert [b["name"] for b in yen_mo["data"]["branches"]]


async def test_parent_flag_off_disables_its_children(gateway, kim_son_member):
    # given
    await configure(gateway, handbook_off_in_kim_son)
    # when
    _, body = await gql(kim_son_member, MEETINGS)
    _, features = await gql(kim_son_member, FEATURES)
    # then
    assert error_codes(body) == ["FEATURE_DISABLED"]
    assert features["data"]["features"][0] == {
        "key": "handbook",
        "enabled": False,
        "variant": "off",
        "reason": "TARGETING_MATCH",
    }


async def test_killed_child_flag_disables_only_its_fields(
    gateway, yen_mo_member, token, client_for
):
    # given
    async def kill_notices(session):
        await flags.update(
            session=session,
            province_id="ninh-binh",
            key=FlagKey.NOTICES.value,
            expected_version=1,
            actor=ADMIN,
            reason="incident",
            now=world.NOW,
            state=FlagState.KILLED,
        )

    await configure(gateway, kill_notices)
    secretary = client_for(
        token(Role.BRANCH_SECRETARY, tenant=world.YEN_MO, subject=str(world.YM_SECRETARY_A))
    )
    # when
    _, notices = await gql(yen_mo_member, NOTICES)
    _, meetings = await gql(yen_mo_member, MEETINGS)
    _, publish = await gql(
        secretary, PUBLISH, {"input": {"kind": "GENERAL", "title": "t", "body": "b"}}
    )
    # then
    assert error_codes(notices) == ["FEATURE_DISABLED"]
    assert notices["errors"][0]["message"] == (
        "The feature 'handbook.notices' is not enabled for you yet."
    )
    assert "errors" not in meetings
    assert error_codes(publish) == ["FEATURE_DISABLED"]


async def test_a_kill_through_graphql_takes_effect_at_once(token, client_for, yen_mo_member):
    # given
    admin = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN))
    # when: version 1 is the row the kill itself creates from the registry
    status, body = await gql(admin, KILL, {"flag": FlagKey.MEETINGS.value, "version": 1})
    _, meetings = await gql(yen_mo_member, MEETINGS)
    # then
    assert status == 200
    assert body["data"]["setFlagState"] == {
        "key": "handbook.meetings",
        "state": "killed",
        "version": 2,
        "errors": [],
    }
    assert error_codes(meetings) == ["FEATURE_DISABLED"]


async def test_a_stale_version_is_a_version_conflict(token, client_for):
    # given
    admin = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN))
    await gql(admin, KILL, {"flag": FlagKey.MEETINGS.value, "version": 1})
    # when
    _, body = await gql(admin, KILL, {"flag": FlagKey.MEETINGS.value, "version": 1})
    # then
    assert body["data"]["setFlagState"] == {
        "key": None,
        "state": None,
        "version": None,
        "errors": [
            {
                "code": "VERSION_CONFLICT",
                "message": "The flag 'handbook.meetings' changed meanwhile: "
                "you edited version 1, it is now at 2.",
            }
        ],
    }


async def test_members_cannot_change_flags(yen_mo_member):
    # when
    _, body = await gql(yen_mo_member, KILL, {"flag": FlagKey.MEETINGS.value, "version": 1})
    # then
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == "Your role does not allow manage rollout."


async def test_a_branch_rule_reaches_only_that_branch(gateway, yen_mo_member, token, client_for):
    # given: notices off by default, on for branch A
    await configure(gateway, notices_for_branch_a)
    branch_b = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_B)))
    # when
    _, in_a = await gql(yen_mo_member, NOTICES)
    _, in_b = await gql(branch_b, NOTICES)
    _, features = await gql(branch_b, FEATURES)
    # then
    assert "errors" not in in_a
    assert error_codes(in_b) == ["FEATURE_DISABLED"]
    assert features["data"]["features"][2] == {
        "key": "handbook.notices",
        "enabled": False,
        "variant": "off",
        "reason": "DEFAULT",
    }


async def test_one_operation_decides_each_flag_for_each_of_its_gated_fields(gateway, yen_mo_member):
    # given: notices killed, meetings and the handbook on (gates are decided once per request)
    async def kill_notices(session):
        await flags.update(
            session=session,
            province_id="ninh-binh",
            key=FlagKey.NOTICES.value,
            expected_version=1,
            actor=ADMIN,
            reason="incident",
            now=world.NOW,
            state=FlagState.KILLED,
        )

    await configure(gateway, kill_notices)
    open_fields = (
        "{ meetings(when: ALL) { title } again: meetings(when: ALL) { title } me { fullName } }"
    )
    # when: the meetings' verdict is decided first, then asked again, then the notices'
    _, opened = await gql(yen_mo_member, open_fields)
    _, body = await gql(yen_mo_member, "{ meetings(when: ALL) { title } notices { title } }")
    # then
    assert "errors" not in opened
    assert opened["data"]["meetings"] == opened["data"]["again"]
    assert opened["data"]["me"]["fullName"]
    assert error_codes(body) == ["FEATURE_DISABLED"]
    assert body["errors"][0]["path"] == ["notices"]
