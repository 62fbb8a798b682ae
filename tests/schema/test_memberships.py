"""The membership mutations and CLI: who may record a move, the refusals (coded, nothing
written), and a transfer seen by the member counts of both tenants (docs/KPIS.md).
The history's own rules are pinned in tests/adoption/test_memberships.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from adoption import counters
from db.sessions import scope_session
from gateway.cli import app
from schema.relay import encode_id
from tenants.handbook.models import MemberMembership
from tenants.permissions import ROLE_PERMISSIONS, Permission
from tenants.types import Role
from tests import databases
from tests.cli_database import world_for_cli
from tests.world import DUY_TIEN, KIM_SON, KS_BRANCH, KS_MEMBER, YEN_MO, YM_BRANCH_A

LEFT = """mutation ($id: ID!, $on: Date!) { recordMemberLeft(input: {memberId: $id, on: $on}) {
  memberId on errors { field code message } } }"""
REJOINED = """mutation ($id: ID!, $on: Date!) {
  recordMemberRejoined(input: {memberId: $id, on: $on}) { memberId on errors { field code } } }"""
TRANSFER = """mutation ($id: ID!, $to: String!, $branch: ID!, $on: Date!) {
  transferMember(input: {memberId: $id, toTenant: $to, branchId: $branch, on: $on}) {
    memberId on errors { field code message } } }"""
ON = "2026-11-20"


def _caller(role: Role) -> tuple[str | None, str]:
    """A caller of ``role`` acting on Kim Son: tenant roles by token, province roles by path."""
    return (None, "/t/kim-son") if role in (Role.PROVINCE_ADMIN, Role.AUDITOR) else (KIM_SON, "")


async def _stays(gateway: Any) -> int:
    """Membership rows of the two tenants a move here could touch (each read as its tenant)."""
    total = 0
    for tenant in (KIM_SON, YEN_MO):
        async with scope_session(gateway.sessionmaker(), tenant) as session:
            count = select(func.count()).select_from(MemberMembership)
            total += int(await session.scalar(count) or 0)
    return total


@pytest.mark.parametrize("role", list(Role))
async def test_only_roles_with_the_permission_record_a_move(
    client_for, token, gateway, role
) -> None:
    # given
    tenant, prefix = _caller(role)
    client = client_for(token(role, tenant=tenant))
    before = await _stays(gateway)
    variables = {"id": encode_id("Member", KS_MEMBER), "on": ON}
    # when
    response = await client.post(f"{prefix}/graphql", json={"query": LEFT, "variables": variables})
    # then
    body = response.json()
    if Permission.RECORD_MEMBERSHIP in ROLE_PERMISSIONS[role]:
        assert body["data"]["recordMemberLeft"] == {
            "memberId": variables["id"],
            "on": ON,
            "errors": [],
        }
    else:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert await _stays(gateway) == before


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"to": KIM_SON}, "INVALID_INPUT", "toTenant"),  # the same tenant
        ({"to": DUY_TIEN}, "NOT_FOUND", "toTenant"),  # another province
        ({"to": "no-such-tenant"}, "NOT_FOUND", "toTenant"),
        ({"branch": encode_id("Branch", KS_BRANCH)}, "NOT_FOUND", "branchId"),  # not Yen Mo's
        ({"branch": "not-an-id"}, "INVALID_ID", "branchId"),
        ({"id": "not-an-id"}, "INVALID_ID", "memberId"),
        ({"on": "2999-01-01"}, "INVALID_INPUT", "on"),
        ({"on": "2001-01-01"}, "INVALID_INPUT", "on"),  # before the membership began
    ],
)
async def test_a_refused_transfer_writes_nothing(
    client_for, token, gateway, variables, code, field
) -> None:
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=KIM_SON))
    good = {
        "id": encode_id("Member", KS_MEMBER),
        "to": YEN_MO,
        "branch": encode_id("Branch", YM_BRANCH_A),
        "on": ON,
    }
    before = await _stays(gateway)
    # when
    response = await client.post(
        "/graphql", json={"query": TRANSFER, "variables": good | variables}
    )
    # then
    payload = response.json()["data"]["transferMember"]
    assert payload["memberId"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await _stays(gateway) == before


async def _members_on(session: AsyncSession, tenant: str, day: dt.date) -> int:
    counts = await counters.members(session, [tenant], day, day)
    return counts[tenant].upto(day) if tenant in counts else 0


async def test_a_transfer_moves_the_member_from_its_day_and_keeps_the_past(
    client_for, token, gateway
) -> None:
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    days = [dt.date(2026, 11, 19), dt.date(2026, 11, 20)]

    async def counts() -> list[int]:
        found = []
        for tenant in (KIM_SON, YEN_MO):
            async with scope_session(gateway.sessionmaker(), tenant) as session:
                found += [await _members_on(session, tenant, day) for day in days]
        return found

    ks_before, _, ym_before, _ = await counts()
    variables = {
        "id": encode_id("Member", KS_MEMBER),
        "to": YEN_MO,
        "branch": encode_id("Branch", YM_BRANCH_A),
        "on": ON,
    }
    # when
    moved = await client.post(
        "/t/kim-son/graphql", json={"query": TRANSFER, "variables": variables}
    )
    again = await client.post(
        "/t/kim-son/graphql",
        json={"query": REJOINED, "variables": {"id": variables["id"], "on": "2026-11-19"}},
    )
    # then
    assert moved.json()["data"]["transferMember"]["errors"] == []
    assert await counts() == [ks_before, ks_before - 1, ym_before, ym_before + 1]
    assert again.json()["data"]["recordMemberRejoined"]["errors"] == [
        {"field": "on", "code": "INVALID_INPUT"}
    ]


runner = CliRunner()


@pytest.fixture
def cli_database(monkeypatch, tmp_path: Path) -> Iterator[databases.TestDatabase]:
    with world_for_cli(monkeypatch, tmp_path) as db:
        yield db


MEMBER = str(KS_MEMBER)
TRANSFER_ARGS = ["transfer", MEMBER, "--tenant", KIM_SON, "--on", ON]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["leave", MEMBER, "--tenant", "nowhere", "--on", ON], "TENANT_NOT_FOUND"),
        (["leave", "not-a-uuid", "--tenant", KIM_SON, "--on", ON], "INVALID_INPUT"),
        (["leave", MEMBER, "--tenant", KIM_SON, "--on", "20-11-2026"], "INVALID_INPUT"),
        (["leave", MEMBER, "--tenant", KIM_SON, "--on", "2999-01-01"], "INVALID_INPUT"),
        (["leave", MEMBER, "--tenant", YEN_MO, "--on", ON], "NOT_FOUND"),
        (["rejoin", MEMBER, "--tenant", KIM_SON, "--on", ON], "CONFLICT"),
        (
            [*TRANSFER_ARGS, "--to", DUY_TIEN, "--branch", str(YM_BRANCH_A)],
            "NOT_FOUND",
        ),
        (
            [*TRANSFER_ARGS, "--to", YEN_MO, "--branch", "x"],
            "INVALID_INPUT",
        ),
    ],
)
def test_cli_refuses_with_a_code(cli_database, args, code) -> None:
    # when
    result = runner.invoke(app, ["members", *args])
    # then
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"{code}: ")


def test_cli_records_a_leave_then_a_rejoin(cli_database) -> None:
    # when
    left = runner.invoke(app, ["members", "leave", MEMBER, "--tenant", KIM_SON, "--on", ON])
    back = runner.invoke(
        app, ["members", "rejoin", MEMBER, "--tenant", KIM_SON, "--on", "2026-11-22"]
    )
    # then
    assert (left.exit_code, left.output) == (
        0,
        f"member {MEMBER} of {KIM_SON}: left, first day out {ON}\n",
    )
    assert back.exit_code == 0, back.output
    assert back.output == f"member {MEMBER} of {KIM_SON}: a member again from 2026-11-22\n"
