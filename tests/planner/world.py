"""More rows for the planner's differential test: ties, fractions of a second, LIKE's own
characters and Vietnamese text, in three tenants of two provinces (tests/world.py's); members
sharing a name (the cursor's tie-break on id) and names that sort by Vietnamese letters."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.sessions import scope_session
from tenants.handbook.models import (
    Document,
    DraftResolution,
    Meeting,
    Member,
    Notice,
    ResolutionComment,
)
from tenants.types import Role
from tests import world

NOW = world.NOW
BRANCHES = {
    world.YEN_MO: (world.YM_BRANCH_A, world.YM_BRANCH_B),
    world.KIM_SON: (world.KS_BRANCH,),
    world.DUY_TIEN: (world.DT_BRANCH,),
}
TITLES = ("Họp chi bộ", "Hội nghị Đảng ủy", "Sinh hoạt chuyên đề", "Học tập nghị quyết")
NUMBERS = ("21-NQ/TW", "10%-QĐ", "a_b/HD", "05-CT\\TU", "Nghị quyết 1")
DOC_TITLES = ("Nghị quyết về công tác", "Chỉ thị 05 — học tập", "Quy định 10%", "Kết luận")


def _id(tenant: str, n: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{n}")


def _meetings(tenant: str) -> list[object]:
    rows: list[object] = []
    for n in range(14):
        starts = NOW + dt.timedelta(days=(n % 4) - 2, microseconds=(n % 2) * 250_000)
        rows.append(
            Meeting(
                tenant_id=tenant,
                id=_id(tenant, n),
                branch_id=BRANCHES[tenant][n % len(BRANCHES[tenant])],
                title=TITLES[n % len(TITLES)] + f" {n}",
                starts_at=starts,  # equal starts_at tie on id, in both directions
                ends_at=starts + dt.timedelta(hours=n % 3 + 1),
                place="Hội trường" if n % 2 else "Nhà văn hóa",
                agenda="Nội dung \"trích dẫn\" và 'nháy'\n" * (n % 2),
                status=("scheduled", "held", "cancelled")[n % 3],
                cancel_reason="Mưa bão" if n % 3 == 2 else None,
                version=1,
            )
        )
    return rows


def _notices(tenant: str) -> list[object]:
    branches = (None, *BRANCHES[tenant])
    return [
        Notice(
            tenant_id=tenant,
            id=_id(tenant, 100 + n),
            branch_id=branches[n % len(branches)],
            kind=("party_task", "government_task", "general")[n % 3],
            title=f"Thông báo số {n} — Đảng bộ",
            body="Toàn thể đảng viên",
            published_by="admin",
            published_at=NOW - dt.timedelta(hours=n // 3, microseconds=n % 2),
        )
        for n in range(12)
    ]


def _documents(tenant: str) -> list[object]:
    return [
        Document(
            tenant_id=tenant,
            id=_id(tenant, 200 + n),
            number=NUMBERS[n % len(NUMBERS)],
            title=DOC_TITLES[n % len(DOC_TITLES)],
            issued_on=dt.date(2024, 1 + n % 3, 1),
            summary="Tóm tắt",
        )
        for n in range(11)
    ]


# Shared names, letters that sort apart from their base letter, an empty-looking end.
NAMES = ("Nguyễn Văn An", "Nguyễn Văn An", "Đặng Thị Ánh", "Dương Văn Bảo", "Ông Ích Khiêm", "An")


def _members(tenant: str) -> list[object]:
    return [
        Member(
            tenant_id=tenant,
            id=_id(tenant, 300 + n),
            branch_id=BRANCHES[tenant][n % len(BRANCHES[tenant])],
            full_name=NAMES[n % len(NAMES)],
            birth_year=1950 + n,
            joined_on=dt.date(2000 + n % 20, 1 + n % 12, 1 + n % 28),
            position="Đảng viên",
            status=("official", "probationary", "transferred")[n % 3],
            is_religious_believer=n % 5 == 0,
        )
        for n in range(13)
    ]


def _drafts(tenant: str) -> list[object]:
    """Drafts in every branch, two closing at the same instant (the tie-break on id), each with
    comments, two written at the same instant, by members of the tenant."""
    rows: list[object] = []
    authors = [m for m in _members(tenant) if isinstance(m, Member)]
    for n in range(5):
        draft = _id(tenant, 400 + n)
        # 0 and 2 (one branch) close at the same instant; 1 and 3 half a millisecond apart
        closes = NOW + dt.timedelta(days=1 if n in (0, 2) else -1, microseconds=500 * (n == 3))
        rows.append(
            DraftResolution(
                tenant_id=tenant,
                id=draft,
                branch_id=BRANCHES[tenant][n % len(BRANCHES[tenant])],
                title=f"Dự thảo nghị quyết số {n}",
                body='Nội dung "dự thảo"\n',
                status="open" if n % 3 else "closed",
                closes_at=closes,
            )
        )
        for k in range(n % 4):
            rows.append(
                ResolutionComment(
                    tenant_id=tenant,
                    id=_id(tenant, 500 + 10 * n + k),
                    resolution_id=draft,
                    author_id=authors[(n + k) % len(authors)].id,
                    body=f"Ý kiến {k}",
                    created_at=NOW - dt.timedelta(hours=k // 2),
                )
            )
    return rows


def member_names() -> list[tuple[uuid.UUID, str]]:
    """Every member's id and name in the three tenants, tests/world.py's and these."""
    found = [(row[0], row[2]) for members in world.MEMBERS.values() for row in members]
    loaded = [m for tenant in BRANCHES for m in _members(tenant)]
    return found + [(m.id, m.full_name) for m in loaded if isinstance(m, Member)]


async def load_more(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Add the rows in each tenant, as the app role with the tenant set."""
    for tenant in BRANCHES:
        async with scope_session(sessionmaker(), tenant) as session:
            rows = [*_members(tenant), *_meetings(tenant), *_notices(tenant), *_documents(tenant)]
            session.add_all(rows)
            await session.flush()  # the drafts' comments point at members and drafts
            session.add_all(_drafts(tenant))
            await session.commit()


@dataclass(frozen=True)
class Caller:
    """Who sends the request: role, token tenant, subject, province and the tenant asked for."""

    name: str
    role: Role
    tenant: str | None
    subject: str
    province: str | None = None
    acting_on: str | None = None  # X-Tenant, for the province roles


CALLERS = (
    Caller("ym-member-a", Role.MEMBER, world.YEN_MO, str(world.YM_MEMBER_A)),
    Caller("ym-member-b", Role.MEMBER, world.YEN_MO, str(world.YM_MEMBER_B)),
    Caller("ym-secretary-a", Role.BRANCH_SECRETARY, world.YEN_MO, str(world.YM_SECRETARY_A)),
    Caller("ym-admin", Role.TENANT_ADMIN, world.YEN_MO, "admin-1"),
    Caller("ks-member", Role.MEMBER, world.KIM_SON, str(world.KS_MEMBER)),
    Caller("ks-unknown-member", Role.MEMBER, world.KIM_SON, str(uuid.UUID(int=424242))),
    Caller("dt-member", Role.MEMBER, world.DUY_TIEN, str(world.DT_MEMBER)),
    Caller("dt-admin", Role.TENANT_ADMIN, world.DUY_TIEN, str(world.DT_MEMBER)),
    Caller("nb-province-admin", Role.PROVINCE_ADMIN, None, "pa-1", acting_on=world.KIM_SON),
    Caller("nb-auditor", Role.AUDITOR, None, "au-1", acting_on=world.YEN_MO),
    Caller(
        "hn-admin-on-yen-mo",
        Role.PROVINCE_ADMIN,
        None,
        "pa-2",
        province=world.OTHER_PROVINCE,
        acting_on=world.YEN_MO,
    ),
    Caller(
        "hn-admin",
        Role.PROVINCE_ADMIN,
        None,
        "pa-2",
        province=world.OTHER_PROVINCE,
        acting_on=world.DUY_TIEN,
    ),
    Caller("anonymous", Role.MEMBER, None, ""),
)
