"""Branch scope: which branches a role reads, and the member list it may ask for."""

from __future__ import annotations

import uuid

import pytest

from db.sessions import make_sessionmaker, scope_session
from tenants.errors import NotAllowed
from tenants.handbook.access import Actor
from tenants.handbook.service import MemberFilter, readable_members_page
from tenants.types import Role
from tests.world import YEN_MO, YM_BRANCH_A, YM_BRANCH_B, YM_MEMBER_A, YM_MEMBER_B

OWN = YM_BRANCH_A


def _actor(role: Role, branch: uuid.UUID | None = OWN) -> Actor:
    return Actor(subject="someone", roles=frozenset({role}), branch_id=branch)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (_actor(Role.TENANT_ADMIN), None),
        (_actor(Role.PROVINCE_ADMIN, None), None),
        (_actor(Role.AUDITOR, None), None),
        (_actor(Role.BRANCH_SECRETARY), [OWN]),
        (_actor(Role.MEMBER), [OWN]),
        (_actor(Role.MEMBER, None), []),
    ],
    ids=["tenant-admin", "province-admin", "auditor", "secretary", "member", "member-no-branch"],
)
def test_readable_branches_are_every_one_or_the_actors_own(actor, expected):
    assert actor.readable_branch_ids == expected


async def _page(connection, actor: Actor, branch: uuid.UUID | None) -> set[uuid.UUID]:
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    async with scope_session(maker(), YEN_MO) as session:
        page = await readable_members_page(
            session=session,
            tenant_id=YEN_MO,
            actor=actor,
            filters=MemberFilter(branch_id=branch),
            first=100,
            after=None,
        )
    return {row.id for row in page.rows}


async def test_a_member_lists_their_own_branch_whatever_they_ask_for_within_it(connection):
    # when
    unfiltered = await _page(connection, _actor(Role.MEMBER), None)
    own = await _page(connection, _actor(Role.MEMBER), OWN)
    # then
    assert YM_MEMBER_A in unfiltered
    assert YM_MEMBER_B not in unfiltered
    assert own == unfiltered


async def test_a_member_asking_for_another_branch_is_not_allowed(connection):
    with pytest.raises(NotAllowed) as refused:
        await _page(connection, _actor(Role.MEMBER), YM_BRANCH_B)
    assert (refused.value.code, refused.value.message) == (
        "FORBIDDEN",
        "You may only list your own branch's members.",
    )


async def test_a_member_without_a_branch_reads_no_member(connection):
    assert await _page(connection, _actor(Role.MEMBER, None), None) == set()


async def test_an_admin_lists_every_branch_or_the_one_asked_for(connection):
    # when
    every = await _page(connection, _actor(Role.TENANT_ADMIN), None)
    other = await _page(connection, _actor(Role.TENANT_ADMIN), YM_BRANCH_B)
    # then
    assert {YM_MEMBER_A, YM_MEMBER_B} <= every
    assert YM_MEMBER_B in other
    assert YM_MEMBER_A not in other
