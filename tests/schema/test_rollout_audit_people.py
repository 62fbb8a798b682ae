"""``AuditRecord.actorMemberName``: an actor with no name in their token, named from the member
directory only where the viewer may read it; never from another tenant's directory."""

from __future__ import annotations

import pytest

from db.sessions import scope_session
from tenants.handbook import erasure
from tenants.types import Role
from tests import world
from tests.graphql import gql
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, make_plan

AUDIT = """
query($action: String) {
  rolloutAudit(flag: "handbook", action: $action) { actor actorName actorMemberName tenant }
}
"""
START = 'mutation { startRollout(flag: "handbook") { errors { code } } }'
ADVANCE = 'mutation { advanceRollout(flag: "handbook", overrideReason: "ok") { errors { code } } }'
RAMP = """
mutation { setTenantRamp(flag: "handbook", percentage: 25, reason: "slower") { errors { code } } }
"""


@pytest.fixture
async def kim_son_at_half(gateway, token, client_for):
    """The plan running with Kim Son's wave at 50%."""
    gateway.kpis = FakeKpiSource()
    async with gateway.sessionmaker() as session:
        await make_plan(session)
    await gateway.flags.reload(gateway.sessionmaker)
    admin = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN))
    for document in (START, ADVANCE):
        status, body = await gql(admin, document)
        assert (status, body.get("errors", [])) == (200, [])
    return admin


async def ramp_as(client_for, token, **claims) -> None:
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.KIM_SON, **claims))
    status, body = await gql(client, RAMP)
    assert (status, body["data"]["setTenantRamp"]["errors"]) == (200, [])


async def ramp_rows(client) -> list[dict]:
    status, body = await gql(client, AUDIT, {"action": "tenant.ramp"})
    assert status == 200, body
    return body["data"]["rolloutAudit"]


@pytest.mark.parametrize("viewer", [Role.PROVINCE_ADMIN, Role.AUDITOR])
async def test_a_nameless_member_actor_is_named_from_their_tenants_directory(
    kim_son_at_half, token, client_for, viewer
):
    # given: Kim Son's admin is the member Bùi Văn Sơn; the token carries no name
    await ramp_as(client_for, token, subject=str(world.KS_MEMBER))
    # when
    rows = await ramp_rows(client_for(token(viewer)))
    # then
    assert rows == [
        {
            "actor": str(world.KS_MEMBER),
            "actorName": None,
            "actorMemberName": "Bùi Văn Sơn",
            "tenant": world.KIM_SON,
        }
    ]


async def test_the_tokens_name_is_kept_and_the_directory_not_asked(
    kim_son_at_half, token, client_for
):
    # given
    await ramp_as(client_for, token, subject=str(world.KS_MEMBER), name="Chị Lan")
    # when
    [row] = await ramp_rows(kim_son_at_half)
    # then
    assert (row["actorName"], row["actorMemberName"]) == ("Chị Lan", None)


@pytest.mark.parametrize(
    "subject", [str(world.YM_MEMBER_A), "ks-admin", str(world.KS_MEMBER).upper()]
)
async def test_no_name_for_a_subject_that_is_not_a_member_of_the_rows_tenant(
    kim_son_at_half, token, client_for, subject
):
    # given: a Yên Mô member's id, an account name, an id in another spelling
    await ramp_as(client_for, token, subject=subject)
    # when
    [row] = await ramp_rows(kim_son_at_half)
    # then
    assert (row["actor"], row["actorName"], row["actorMemberName"]) == (subject, None, None)


async def test_plan_steps_name_no_tenant_and_so_no_member(kim_son_at_half):
    # when
    status, body = await gql(kim_son_at_half, AUDIT, {"action": "plan.advance"})
    # then
    assert status == 200
    assert [row["actorMemberName"] for row in body["data"]["rolloutAudit"]] == [None]


async def test_an_erased_member_is_no_longer_named(kim_son_at_half, gateway, token, client_for):
    # given: Bùi Văn Sơn ramped, then his personal data was erased
    await ramp_as(client_for, token, subject=str(world.KS_MEMBER))
    async with scope_session(gateway.sessionmaker(), world.KIM_SON) as session:
        await erasure.erase_personal_fields(
            session=session, tenant_id=world.KIM_SON, member_id=world.KS_MEMBER
        )
        await session.commit()
    # when
    [row] = await ramp_rows(kim_son_at_half)
    # then
    assert (row["actor"], row["actorMemberName"]) == (str(world.KS_MEMBER), None)
