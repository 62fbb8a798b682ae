"""Erasure of a member's personal data (Decree 13/2023): fields blanked, events and devices
anonymised, every KPI unchanged (and after a rebuild), audited without what was erased, once.
Service on both databases, the ``eraseMember`` mutation per role, and the CLI.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from typer.testing import CliRunner

from adoption import erasure, rollups
from adoption.calendar import zone
from adoption.models import (
    AdoptionActivation,
    AdoptionEvent,
    AdoptionInstall,
    AdoptionMemberDay,
    AdoptionMemberMonth,
)
from db.sessions import make_sessionmaker, scope_session
from gateway.cli import app
from schema.relay import encode_id
from tenants.errors import AlreadyErased, Conflict, NotFound
from tenants.handbook import memberships
from tenants.handbook.models import Member, MemberErasure, MemberMembership, ResolutionComment
from tenants.types import Role
from tests import databases
from tests.adoption.history import TZ, kpis, load_events
from tests.cli_database import world_for_cli
from tests.world import KIM_SON, KS_MEMBER, NOW, YEN_MO, YM_MEMBER_A

DEVICE = "ks-member-phone"
ERASE = """
mutation ($id: ID!) { eraseMember(input: {memberId: $id}) {
  erasure { memberId erasedAt actor events devices } errors { field code message } } }
"""


def _member_events() -> list[dict[str, Any]]:
    """Kim Son's member on their phone for a year, and the phone's anonymous install."""
    rows = []
    for n in range(36):
        at = dt.datetime(2025, 12, 1, 2, tzinfo=dt.UTC) + dt.timedelta(days=10 * n)
        kind = ("app_installed", "login", "session_started")[n % 3] if n else "app_installed"
        rows.append(
            {
                "tenant_id": KIM_SON,
                "occurred_at": at,
                "event_id": uuid.UUID(int=(0xE5 << 64) + n),
                "type": kind,
                "member_id": None if kind == "app_installed" else KS_MEMBER,
                "device_id": DEVICE,
                "install_token": "a-token" if kind == "app_installed" else None,
                "received_at": at,
            }
        )
    return rows


async def _load(sessions: Callable[[], AsyncSession]) -> None:
    await load_events(sessions)
    async with scope_session(sessions(), KIM_SON) as session:
        await session.execute(insert(AdoptionEvent), _member_events())
        await rollups.rebuild(session, tenant_id=KIM_SON, tz=zone(TZ))
        await session.commit()


async def _traces(session: AsyncSession) -> dict[str, int]:
    """Rows anywhere that still name Kim Son's member or their phone."""
    found = {}
    for model in (AdoptionMemberDay, AdoptionMemberMonth, AdoptionActivation, MemberMembership):
        query = select(func.count()).where(model.member_id == KS_MEMBER)
        found[model.__tablename__] = int(await session.scalar(query) or 0)
    named = or_(
        AdoptionEvent.member_id == KS_MEMBER,
        AdoptionEvent.device_id == DEVICE,
        AdoptionEvent.install_token.is_not(None),
    )
    found["events"] = int(await session.scalar(select(func.count()).where(named)) or 0)
    installs = select(func.count()).where(AdoptionInstall.device_id == DEVICE)
    found["installs"] = int(await session.scalar(installs) or 0)
    return found


@pytest.fixture
async def sessions(connection: AsyncConnection) -> AsyncIterator[Callable[[], AsyncSession]]:
    """Sessions over the test's transaction (each commit a savepoint), with the events loaded."""
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    await _load(maker)
    return maker


async def test_erasure_anonymises_the_member_and_every_kpi_stays(sessions) -> None:
    # given
    before = await kpis(sessions)
    async with scope_session(sessions(), KIM_SON) as session:
        assert (await _traces(session))["events"] > 0
    # when
    async with scope_session(sessions(), KIM_SON) as session:
        done = await erasure.erase_member(
            session=session, tenant_id=KIM_SON, member_id=KS_MEMBER, actor="admin-7", now=NOW
        )
        await session.commit()
    # then: nothing names the member or the phone, the fields are blank, the KPIs the same
    assert (done.member_id, done.actor, done.events, done.devices) == (KS_MEMBER, "admin-7", 24, 1)
    async with scope_session(sessions(), KIM_SON) as session:
        assert set((await _traces(session)).values()) == {0}
        member = await session.get(Member, (KIM_SON, KS_MEMBER))
        assert member is not None
        fields = (
            member.full_name,
            member.birth_year,
            member.position,
            member.is_religious_believer,
        )
        assert fields == ("[erased]", 0, "[erased]", False)
        bodies = await session.scalars(
            select(ResolutionComment.body).where(ResolutionComment.author_id == KS_MEMBER)
        )
        assert set(bodies) == {"[erased]"}
        audit = (await session.scalars(select(MemberErasure))).one()
        assert (audit.member_id, audit.actor, audit.events, audit.devices) == (
            KS_MEMBER,
            "admin-7",
            24,
            1,
        )
    assert await kpis(sessions) == before
    # and when the rollups are rebuilt from the anonymised events, they are the same again
    async with scope_session(sessions(), KIM_SON) as session:
        await rollups.rebuild(session, tenant_id=KIM_SON, tz=zone(TZ))
        await session.commit()
    assert await kpis(sessions) == before


async def _open_stays(session: AsyncSession) -> int:
    query = select(func.count()).where(
        MemberMembership.tenant_id == KIM_SON, MemberMembership.ended_on.is_(None)
    )
    return int(await session.scalar(query) or 0)


async def test_an_erased_members_stays_are_no_longer_theirs_to_move(sessions) -> None:
    # given
    async with scope_session(sessions(), KIM_SON) as session:
        await erasure.erase_member(
            session=session, tenant_id=KIM_SON, member_id=KS_MEMBER, actor="a", now=NOW
        )
        await session.commit()
    # when
    async with scope_session(sessions(), KIM_SON) as session:
        before = await _open_stays(session)
        with pytest.raises(Conflict) as refused:
            await memberships.leave(
                session=session,
                tenant_id=KIM_SON,
                member_id=KS_MEMBER,
                on=NOW.date(),
                today=NOW.date(),
            )
        after = await _open_stays(session)
    # then: refused with its code and field, and every stay as it was
    assert (refused.value.code, refused.value.field) == ("CONFLICT", "memberId")
    assert refused.value.message == (
        "The member was erased: their memberships are no longer theirs to move."
    )
    assert after == before > 0


@pytest.mark.parametrize(
    ("tenant", "member", "refusal"),
    [
        (KIM_SON, uuid.UUID(int=404), NotFound),  # no such member
        (YEN_MO, KS_MEMBER, NotFound),  # another tenant's member looks absent
        (KIM_SON, KS_MEMBER, AlreadyErased),  # erased once already
    ],
    ids=["unknown", "other-tenant", "again"],
)
async def test_a_refused_erasure_writes_nothing(sessions, tenant, member, refusal) -> None:
    # given: Kim Son's member erased once
    async with scope_session(sessions(), KIM_SON) as session:
        await erasure.erase_member(
            session=session, tenant_id=KIM_SON, member_id=KS_MEMBER, actor="a", now=NOW
        )
        await session.commit()
    before = await kpis(sessions)
    # when
    async with scope_session(sessions(), tenant) as session:
        with pytest.raises(refusal) as refused:
            await erasure.erase_member(
                session=session, tenant_id=tenant, member_id=member, actor="b", now=NOW
            )
        await session.rollback()
    # then
    expected = {
        NotFound: ("NOT_FOUND", "Member not found."),
        AlreadyErased: ("ALREADY_ERASED", "This member's personal data has already been erased."),
    }[refusal]
    assert (refused.value.code, refused.value.message, refused.value.field) == (
        *expected,
        "memberId",
    )
    async with scope_session(sessions(), tenant) as session:
        audits = list(
            await session.scalars(
                select(MemberErasure.actor).where(MemberErasure.tenant_id == tenant)
            )
        )
        member_row = await session.get(Member, (YEN_MO, YM_MEMBER_A))
    assert audits == (["a"] if tenant == KIM_SON else [])
    assert member_row is None or member_row.full_name != "[erased]"
    assert await kpis(sessions) == before


@pytest.mark.parametrize(
    ("role", "prefix", "tenant", "expected"),
    [
        (Role.TENANT_ADMIN, "", KIM_SON, "erased"),
        (Role.PROVINCE_ADMIN, "/t/kim-son", None, "erased"),
        (Role.TENANT_ADMIN, "", YEN_MO, "NOT_FOUND"),  # another tenant's member
        (Role.PROVINCE_ADMIN, "/t/yen-mo", None, "NOT_FOUND"),
        (Role.MEMBER, "", KIM_SON, "FORBIDDEN"),
        (Role.BRANCH_SECRETARY, "", KIM_SON, "FORBIDDEN"),
        (Role.AUDITOR, "/t/kim-son", None, "FORBIDDEN"),
    ],
)
async def test_erase_member_mutation_per_role(
    client_for, token, gateway, role, prefix, tenant, expected
) -> None:
    # given
    client = client_for(token(role, tenant=tenant, subject="caller-1"))
    # when
    first = await client.post(
        f"{prefix}/graphql",
        json={"query": ERASE, "variables": {"id": encode_id("Member", KS_MEMBER)}},
    )
    again = await client.post(
        f"{prefix}/graphql",
        json={"query": ERASE, "variables": {"id": encode_id("Member", KS_MEMBER)}},
    )
    # then
    body, second = first.json(), again.json()
    if expected == "FORBIDDEN":
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert body["data"] is None or body["data"].get("eraseMember") is None
        return
    payload = body["data"]["eraseMember"]
    if expected == "NOT_FOUND":
        assert payload == {
            "erasure": None,
            "errors": [{"field": "memberId", "code": "NOT_FOUND", "message": "Member not found."}],
        }
        return
    assert payload["errors"] == []
    assert payload["erasure"]["memberId"] == encode_id("Member", KS_MEMBER)
    assert payload["erasure"]["actor"] == "caller-1"
    assert second["data"]["eraseMember"]["errors"] == [
        {
            "field": "memberId",
            "code": "ALREADY_ERASED",
            "message": "This member's personal data has already been erased.",
        }
    ]


@pytest.mark.parametrize("bad", ["not-an-id", encode_id("Meeting", KS_MEMBER), ""])
async def test_erase_member_refuses_a_malformed_id(client_for, token, bad) -> None:
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=KIM_SON))
    # when
    response = await client.post("/graphql", json={"query": ERASE, "variables": {"id": bad}})
    # then
    [error] = response.json()["data"]["eraseMember"]["errors"]
    assert (error["field"], error["code"]) == ("memberId", "INVALID_ID")


runner = CliRunner()


@pytest.fixture
def cli_database(monkeypatch, tmp_path: Path) -> Iterator[databases.TestDatabase]:
    with world_for_cli(monkeypatch, tmp_path, _load) as db:
        yield db


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([str(KS_MEMBER), "--tenant", "nowhere"], "TENANT_NOT_FOUND"),
        (["not-a-uuid", "--tenant", KIM_SON], "INVALID_INPUT"),
        ([str(uuid.UUID(int=404)), "--tenant", KIM_SON], "NOT_FOUND"),
        ([str(KS_MEMBER), "--tenant", YEN_MO], "NOT_FOUND"),
        ([str(KS_MEMBER), "--tenant", KIM_SON, "--actor", " "], "INVALID_INPUT"),
    ],
)
def test_cli_refuses_with_a_code(cli_database, args, code) -> None:
    # given: the actor is named unless the case is about it
    actor = [] if "--actor" in args else ["--actor", "ops"]
    # when
    result = runner.invoke(app, ["members", "erase", *args, *actor])
    # then
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"{code}: ")


def test_cli_erases_once(cli_database) -> None:
    # when
    first = runner.invoke(
        app, ["members", "erase", str(KS_MEMBER), "--tenant", KIM_SON, "--actor", "ops"]
    )
    again = runner.invoke(
        app, ["members", "erase", str(KS_MEMBER), "--tenant", KIM_SON, "--actor", "ops"]
    )
    # then
    assert first.exit_code == 0, first.output
    assert first.output == (
        f"erased member {KS_MEMBER} of {KIM_SON}: personal fields blanked, 24 events and 1 "
        "devices anonymised; audited as ops\n"
    )
    assert again.exit_code == 1
    assert again.output.startswith("ALREADY_ERASED: ")
