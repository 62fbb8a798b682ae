"""Nested lists are batched: the statement count does not grow with the number of branches."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import insert, text

from tenants.handbook.models import Attendance, Meeting, Member
from tenants.models import Branch
from tenants.types import Role
from tests import world
from tests.graphql import gql

NESTED = """
{ branches {
    name
    members(first: 50) { totalCount edges { node { fullName branch { name } } } }
    meetings(when: ALL) { title attendance { status member { fullName } } }
} }
"""


async def _statements_for(client_for, token, statements):
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    statements.count = 0
    status, body = await gql(client, NESTED)
    assert status == 200, body
    assert "errors" not in body
    return statements.count, len(body["data"]["branches"])


async def _add_branches(connection, count):
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT set_config('app.tenant_id', 'yen-mo', true)"))
    t, starts = world.YEN_MO, world.NOW - dt.timedelta(days=3)
    for n in range(count):
        branch, member, meeting = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await connection.execute(
            insert(Branch).values(
                tenant_id=t, id=branch, organisation_id=world.YM_ORG, name=f"Chi bộ mới {n}"
            )
        )
        await connection.execute(
            insert(Member).values(
                tenant_id=t,
                id=member,
                branch_id=branch,
                full_name=f"Đảng viên {n}",
                birth_year=1990,
                joined_on=dt.date(2015, 1, 1),
                position="Đảng viên",
                status="official",
                is_religious_believer=False,
            )
        )
        await connection.execute(
            insert(Meeting).values(
                tenant_id=t,
                id=meeting,
                branch_id=branch,
                title="Họp",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                place="Nhà văn hóa",
                agenda="",
                status="held",
                version=1,
            )
        )
        await connection.execute(
            insert(Attendance).values(
                tenant_id=t,
                meeting_id=meeting,
                member_id=member,
                status="present",
                recorded_at=starts,
            )
        )


async def test_statements_do_not_grow_with_branches(client_for, token, statements, connection):
    # given: Yen Mo with its 2 branches
    before, branches_before = await _statements_for(client_for, token, statements)
    # when: 8 more branches, each with a member, a meeting and attendance
    await _add_branches(connection, 8)
    after, branches_after = await _statements_for(client_for, token, statements)
    # then
    assert (branches_before, branches_after) == (2, 10)
    assert after == before
    assert after <= 10
