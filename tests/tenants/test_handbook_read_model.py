"""The narrow handbook reads: which member a token speaks for in a tenant, and its members."""

from __future__ import annotations

import uuid

import pytest

from db.sessions import make_sessionmaker, scope_session
from tenants.handbook.read_model import member_ids, member_of
from tenants.identity import Principal
from tenants.types import Role
from tests.world import KIM_SON, KS_MEMBER, MEMBERS, YEN_MO, YM_MEMBER_A


def _token(subject: str, tenant: str | None) -> Principal:
    return Principal(subject=subject, roles=frozenset({Role.MEMBER}), tenant=tenant)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (_token(str(YM_MEMBER_A), YEN_MO), YM_MEMBER_A),
        (_token(str(KS_MEMBER), YEN_MO), None),  # a member, of another tenant
        (_token(str(YM_MEMBER_A), KIM_SON), None),  # the right member, another tenant's token
        (_token(str(YM_MEMBER_A), None), None),  # a token of no tenant
        (_token(str(uuid.UUID(int=1)), YEN_MO), None),  # no such member
        (_token("province-admin", YEN_MO), None),  # a subject that is no member id
    ],
    ids=[
        "member",
        "other-tenants-member",
        "other-tenants-token",
        "no-tenant",
        "unknown",
        "account",
    ],
)
async def test_member_of_is_the_tokens_subject_only_when_a_member_of_its_own_tenant(
    connection, principal, expected
):
    # given
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    async with scope_session(maker(), YEN_MO) as session:
        # when
        found = await member_of(session=session, tenant_id=YEN_MO, principal=principal)
    # then
    assert found == expected


@pytest.mark.parametrize("tenant_id", [YEN_MO, KIM_SON])
async def test_member_ids_are_the_tenants_own_members_in_id_order(connection, tenant_id):
    # given
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    async with scope_session(maker(), tenant_id) as session:
        # when
        found = await member_ids(session=session, tenant_id=tenant_id)
    # then
    assert found == sorted(member_id for member_id, *_ in MEMBERS[tenant_id])
