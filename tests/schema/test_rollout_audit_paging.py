"""``rolloutAudit`` paged by cursor and filtered on the server: tenant, partial actor, action.

Pages read one after another must equal the unpaged filtered list (newest first, time then id),
each row once, and never a row of another province, whatever the filters and page size.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from rollout import audit
from rollout.models import AuditEntry
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, GIA_VIEN, HOA_LU, KEY, NHO_QUAN, make_plan

AUDIT = """
query($flag: String, $tenant: String, $actor: String, $action: String, $since: DateTime,
      $first: Int!, $after: String) {
  rolloutAudit(flag: $flag, tenant: $tenant, actor: $actor, action: $action, since: $since,
               first: $first, after: $after) {
    at actor actorName action flag tenant reason cursor
  }
}
"""
OVERRIDE = """
mutation {
  setFlagOverride(flag: "handbook.notices", tenant: "kim-son", variant: "on", reason: "ask") {
    errors { code }
  }
}
"""
NOTICES = "handbook.notices"
WAVE_OF = {world.YEN_MO: 0, world.KIM_SON: 1, HOA_LU: 2, NHO_QUAN: 2, GIA_VIEN: 2}
PEOPLE = (
    (ADMIN, "Nguyễn Văn An"),
    ("province-admin-2", "Trần Thị Bình"),
    ("kim-son-admin", None),
    ("ĐINH_1", "Đinh Công Tráng"),
)
ACTIONS = ("plan.advance", "plan.pause", "plan.rollback", "flag.override", "tenant.ramp")
ACTOR_PARTS = ("admin", "ADMIN-1", "nguyễn", "BÌNH", "đinh", "TRÁNG", "kim", "_1", "%", "xyz")


@dataclass(frozen=True)
class Row:
    """What the test wrote, to filter in Python as the reference."""

    at: dt.datetime
    id: uuid.UUID
    province: str
    actor: str
    name: str | None
    action: str
    flag: str
    tenant: str | None
    plan: uuid.UUID | None
    waves: tuple[int, int] | None
    reason: str


def _row_of(entry: AuditEntry) -> Row:
    waves = None
    if entry.before is not None and entry.after is not None:
        waves = (entry.before.get("wave", -1), entry.after.get("wave", -1))
    return Row(
        at=entry.at,
        id=entry.id,
        province=entry.province_id,
        actor=entry.actor,
        name=entry.actor_name,
        action=entry.action,
        flag=entry.flag_key or "",
        tenant=entry.tenant_id,
        plan=entry.plan_id,
        waves=waves,
        reason=entry.reason,
    )


def _write(session: Any, i: int, province: str, plan_id: uuid.UUID) -> None:
    actor, name = PEOPLE[i % len(PEOPLE)]
    action = ACTIONS[i % len(ACTIONS)]
    on_plan = action.startswith("plan.")
    tenants = (world.YEN_MO, world.KIM_SON, HOA_LU) if province == world.PROVINCE else ("duy-tien",)
    audit.act_as(session, name)
    audit.record(
        session,
        actor=actor,
        action=action,
        at=world.NOW + dt.timedelta(minutes=i // 3),  # three rows a minute: ties keep id order
        province_id=province,
        before={"wave": i % 3} if on_plan else None,
        after={"wave": (i * 7) % 3} if on_plan else None,
        reason=f"{province}-{i}",
        flag_key=NOTICES if i % 4 == 0 else KEY,
        plan_id=plan_id if on_plan else None,
        tenant_id=None if on_plan else tenants[i % len(tenants)],
    )


@pytest.fixture
async def rows(gateway) -> list[Row]:
    """Forty rows of Ninh Binh and twenty of Ha Nam (same plan id, same people), all read back."""
    gateway.kpis = FakeKpiSource()
    async with gateway.sessionmaker() as session:
        view = await make_plan(session)
        for i in range(40):
            _write(session, i, world.PROVINCE, view.plan.id)
        for i in range(20):
            _write(session, i, world.OTHER_PROVINCE, view.plan.id)
        await session.commit()
        found = (await session.scalars(select(AuditEntry))).all()
    await gateway.registry.reload(gateway.sessionmaker)
    return [_row_of(entry) for entry in found]


def _matches(row: Row, where: dict[str, Any]) -> bool:
    part = where.get("actor")
    if part is not None and not any(
        part.casefold() in text.casefold() for text in (row.actor, row.name or "")
    ):
        return False
    tenant = where.get("tenant")
    if tenant is not None and row.tenant != tenant:
        reached = max(row.waves) if row.waves else -1
        if not (row.tenant is None and row.plan is not None and WAVE_OF[tenant] <= reached):
            return False
    since = where.get("since")
    return (
        where.get("flag") in (None, row.flag)
        and where.get("action") in (None, row.action)
        and (since is None or row.at >= dt.datetime.fromisoformat(since))
    )


def expected(rows: list[Row], where: dict[str, Any]) -> list[str]:
    """The reasons of the province's matching rows, newest first (time, then id)."""
    own = [r for r in rows if r.province == world.PROVINCE and _matches(r, where)]
    return [r.reason for r in sorted(own, key=lambda r: (r.at, r.id), reverse=True)]


async def read_all_pages(client: Any, where: dict[str, Any], first: int) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    after = None
    for _ in range(200):  # more pages than rows: a cursor that repeats fails, never hangs
        status, body = await gql(client, AUDIT, {**where, "first": first, "after": after})
        assert status == 200, body
        assert "errors" not in body, body
        page = body["data"]["rolloutAudit"]
        assert len(page) <= first
        pages += page
        if len(page) < first:
            return pages
        after = page[-1]["cursor"]
    raise AssertionError("the pages never ended")


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "flag": st.sampled_from([KEY, NOTICES]),
        "tenant": st.sampled_from(sorted(WAVE_OF)),
        "actor": st.sampled_from(ACTOR_PARTS),
        "action": st.sampled_from(ACTIONS),
        "since": st.integers(0, 14).map(
            lambda m: (world.NOW + dt.timedelta(minutes=m)).isoformat()
        ),
    },
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(where=FILTERS, first=st.integers(1, 9))
async def test_pages_concatenate_to_the_filtered_list(rows, admin, where, first):
    # given: the unpaged filtered list, from the rows as written
    unpaged = expected(rows, where)
    # when: reading page after page
    pages = await read_all_pages(admin, where, first)
    # then: the same rows in the same order, each once, none of Ha Nam
    reasons = [row["reason"] for row in pages]
    assert reasons == unpaged, where
    assert len({row["cursor"] for row in pages}) == len(pages)
    assert not any(reason.startswith(world.OTHER_PROVINCE) for reason in reasons)


async def test_one_page_of_200_is_the_whole_filtered_list(rows, admin):
    # when
    _, body = await gql(admin, AUDIT, {"tenant": world.KIM_SON, "first": 200})
    # then: Kim Son's own rows and the plan steps that reached wave 1, with names and cursors
    page = body["data"]["rolloutAudit"]
    assert [row["reason"] for row in page] == expected(rows, {"tenant": world.KIM_SON})
    assert {row["tenant"] for row in page} == {world.KIM_SON, None}
    assert {(row["actor"], row["actorName"]) for row in page} <= set(PEOPLE)


async def test_actor_matches_part_of_the_name_in_any_case(rows, admin):
    # when
    _, body = await gql(admin, AUDIT, {"actor": "CÔNG TR", "first": 200})
    # then
    page = body["data"]["rolloutAudit"]
    assert page
    assert {(row["actor"], row["actorName"]) for row in page} == {("ĐINH_1", "Đinh Công Tráng")}


async def test_a_foreign_provinces_cursor_shows_no_foreign_row(rows, admin, token, client_for):
    # given: a cursor from Ha Nam's audit
    ha_nam = client_for(token(Role.PROVINCE_ADMIN, subject="ha-nam-admin", province="ha-nam"))
    _, foreign = await gql(ha_nam, AUDIT, {"first": 3})
    cursor = foreign["data"]["rolloutAudit"][-1]["cursor"]
    # when: Ninh Binh's admin pages from it
    _, body = await gql(admin, AUDIT, {"first": 200, "after": cursor})
    # then: only Ninh Binh's rows, older than the cursor's position
    reasons = [row["reason"] for row in body["data"]["rolloutAudit"]]
    assert reasons
    assert not any(reason.startswith(world.OTHER_PROVINCE) for reason in reasons)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_CURSORS = {
    "not base64": "!!!",
    "padded": _b64("2026-11-25T03:00:00+00:00|8d7f0c1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f") + "=",
    "no time zone": _b64("2026-11-25T03:00:00|8d7f0c1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f"),
    "upper-case id": _b64("2026-11-25T03:00:00+00:00|8D7F0C1E-6A3B-4C2D-9E8F-0A1B2C3D4E5F"),
    "not a time": _b64("yesterday|8d7f0c1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f"),
    "no id": _b64("2026-11-25T03:00:00+00:00"),
    "another offset": _b64("2026-11-25T10:00:00+07:00|8d7f0c1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f"),
    "a member cursor": base64.urlsafe_b64encode(
        b"8d7f0c1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f:An"
    ).decode(),
    "empty": "",
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
async def test_a_bad_cursor_is_invalid_cursor(rows, admin, cursor):
    # when
    status, body = await gql(admin, AUDIT, {"first": 5, "after": cursor})
    # then
    assert status == 200
    assert error_codes(body) == ["INVALID_CURSOR"]
    assert body["errors"][0]["message"] == (
        "The 'after' cursor is not one this API wrote: send a row's cursor unchanged."
    )
    assert body["data"] is None


@pytest.mark.parametrize("first", [0, 201, -1])
async def test_first_is_1_to_200(rows, admin, first):
    # when
    _, body = await gql(admin, AUDIT, {"first": first})
    # then
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "first must be 1 to 200."


async def test_the_token_name_is_kept_with_the_row(gateway, token, client_for):
    # given: a province admin whose token carries a name
    named = client_for(token(Role.PROVINCE_ADMIN, subject="pa-9", name="Phạm Thị Hoa"))
    # when: they act, then read the audit by part of their name
    _, changed = await gql(named, OVERRIDE)
    _, body = await gql(named, AUDIT, {"actor": "thị hoa", "action": "flag.override", "first": 5})
    # then
    assert changed["data"]["setFlagOverride"]["errors"] == []
    [row] = body["data"]["rolloutAudit"]
    assert (row["actor"], row["actorName"], row["action"]) == (
        "pa-9",
        "Phạm Thị Hoa",
        "flag.override",
    )
