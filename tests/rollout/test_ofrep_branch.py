"""OFREP applies rules that match on the member's branch, as GraphQL does."""

from __future__ import annotations

import uuid

from rollout.flag_catalogue import FlagKey
from tenants.types import Role
from tests import world
from tests.rollout.plan_world import notices_for_branch_a

ONE = "/ofrep/v1/evaluate/flags/{key}"
BULK = "/ofrep/v1/evaluate/flags"


async def _notices_for_branch_a(gateway) -> None:
    async with gateway.sessionmaker() as session:
        await notices_for_branch_a(session)
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)


async def test_a_branch_rule_reaches_only_that_branchs_members(gateway, token, client_for):
    # given: notices off by default, on for branch A
    await _notices_for_branch_a(gateway)
    in_a = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    in_b = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_B)))
    admin = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO, subject="ym-admin"))
    key = FlagKey.NOTICES.value
    # when
    a = await in_a.post(ONE.format(key=key), json={"context": {}})
    b = await in_b.post(ONE.format(key=key), json={"context": {}})
    not_a_member = await admin.post(ONE.format(key=key), json={"context": {}})
    bulk_a = await in_a.post(BULK, json={"context": {}})
    bulk_b = await in_b.post(BULK, json={"context": {}})
    # then
    assert (a.status_code, a.json()["value"], a.json()["reason"]) == (200, True, "TARGETING_MATCH")
    assert (b.json()["value"], b.json()["reason"]) == (False, "UNKNOWN")  # OFREP has no DEFAULT
    assert not_a_member.json()["value"] is False
    by_key_a = {f["key"]: f["value"] for f in bulk_a.json()["flags"]}
    by_key_b = {f["key"]: f["value"] for f in bulk_b.json()["flags"]}
    assert (by_key_a[key], by_key_b[key]) == (True, False)
    assert bulk_a.headers["etag"] != bulk_b.headers["etag"]


async def test_the_branch_is_cached_per_tenant_and_member_for_a_while(gateway):
    # given: a map that counts its reads, holding 2 entries for 60 s
    reads = []

    def sessionmaker():
        reads.append(1)
        return gateway.sessionmaker()

    clock = [0.0]
    branches = type(gateway.branches)(ttl_s=60.0, max_entries=2, clock=lambda: clock[0])
    member = str(world.YM_MEMBER_A)

    async def branch(tenant: str, subject: str) -> str | None:
        return await branches.branch_of(sessionmaker, tenant_id=tenant, subject=subject)

    # when
    first = await branch(world.YEN_MO, member)
    again = await branch(world.YEN_MO, member)
    read_once = len(reads)
    other_tenant = await branch(world.KIM_SON, member)
    unknown = await branch(world.YEN_MO, str(uuid.UUID(int=7)))
    clock[0] = 61.0
    expired = await branch(world.YEN_MO, member)
    # then: one read while fresh; a member of Yen Mo only; the 2 most recent entries kept
    assert (first, again, expired) == (str(world.YM_BRANCH_A),) * 3
    assert read_once == 1
    assert (other_tenant, unknown) == (None, None)
    assert len(reads) == 4
    assert list(branches._entries) == [
        (world.YEN_MO, str(uuid.UUID(int=7))),
        (world.YEN_MO, member),
    ]
