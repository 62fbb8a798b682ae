"""Two provinces, four tenants, every kind of tenant-owned row: the suite's own world.

Every name carries its tenant's label so that a datum seen in an answer tells whose it is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.sessions import scope_session
from tenants.handbook.models import (
    Attendance,
    Document,
    DraftResolution,
    Meeting,
    Member,
    Notice,
    ResolutionComment,
)
from tenants.models import Branch, Organisation, Province, Tenant

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class TenantSeed:
    slug: str
    province: str
    label: str  # what makes every name of the tenant its own
    index: int

    def uid(self, n: int) -> uuid.UUID:
        return uuid.UUID(int=self.index * 100_000 + n)

    @property
    def member(self) -> uuid.UUID:
        return self.uid(102)

    @property
    def secretary(self) -> uuid.UUID:
        return self.uid(101)


PROVINCES = {"ninh-binh": "Ninh Bình", "thanh-hoa": "Thanh Hóa"}
TENANTS = (
    TenantSeed("yen-mo", "ninh-binh", "Yên Mô", 1),
    TenantSeed("kim-son", "ninh-binh", "Kim Sơn", 2),
    TenantSeed("nga-son", "thanh-hoa", "Nga Sơn", 3),
    TenantSeed("hau-loc", "thanh-hoa", "Hậu Lộc", 4),
)
# A rollout plan per province, each on its own registry flag: (flag, waves of tenants). The
# parent ``handbook`` stays unplanned (on everywhere) so that every tenant's data is readable.
PLANS = {
    "ninh-binh": ("handbook.resolution-comments", (("yen-mo",), ("kim-son",))),
    "thanh-hoa": ("handbook.meetings", (("nga-son",), ("hau-loc",))),
}


def _hierarchy(t: TenantSeed) -> list[object]:
    org = Organisation(tenant_id=t.slug, id=t.uid(1), name=f"Đảng bộ xã {t.label}")
    branches = [
        Branch(
            tenant_id=t.slug,
            id=t.uid(10 + n),
            organisation_id=org.id,
            name=f"Chi bộ {t.label} thôn {n}",
        )
        for n in (1, 2)
    ]
    return [org, *branches]


def _members(t: TenantSeed) -> list[object]:
    people = [
        (101, 11, "Bí thư"),
        (102, 11, "Đảng viên"),
        (103, 12, "Bí thư"),
        (104, 12, "Ủy viên"),
    ]
    return [
        Member(
            tenant_id=t.slug,
            id=t.uid(n),
            branch_id=t.uid(branch),
            position=position,
            full_name=f"Đảng viên {t.label} số {n}",
            birth_year=1980,
            joined_on=dt.date(2010, 5, 19),
            status="official",
            is_religious_believer=False,
        )
        for n, branch, position in people
    ]


def _meeting(t: TenantSeed, n: int, branch: int, days: int) -> Meeting:
    starts = NOW + dt.timedelta(days=days)
    return Meeting(
        tenant_id=t.slug,
        id=t.uid(n),
        branch_id=t.uid(branch),
        starts_at=starts,
        title=f"Sinh hoạt {t.label} {n}",
        ends_at=starts + dt.timedelta(hours=2),
        place=f"Nhà văn hóa {t.label}",
        agenda=f"Chương trình {t.label} {n}",
        status="held" if days < 0 else "scheduled",
        version=1,
    )


def _notice(t: TenantSeed, n: int, branch: int | None) -> Notice:
    return Notice(
        tenant_id=t.slug,
        id=t.uid(n),
        branch_id=t.uid(branch) if branch else None,
        kind="party_task",
        title=f"Thông báo {t.label} {n}",
        body=f"Nội dung thông báo {t.label} {n}",
        published_by="admin",
        published_at=NOW - dt.timedelta(days=1),
    )


def _handbook(t: TenantSeed) -> list[object]:
    draft = DraftResolution(
        tenant_id=t.slug,
        id=t.uid(301),
        branch_id=t.uid(11),
        status="open",
        title=f"Dự thảo {t.label}",
        body=f"Dự thảo nội dung {t.label}",
        closes_at=NOW + dt.timedelta(days=5),
    )
    return [
        _meeting(t, 201, 11, 5),
        _meeting(t, 202, 11, -25),
        _meeting(t, 203, 12, 6),
        Attendance(
            tenant_id=t.slug,
            meeting_id=t.uid(202),
            member_id=t.member,
            status="present",
            recorded_at=NOW - dt.timedelta(days=25),
        ),
        draft,
        ResolutionComment(
            tenant_id=t.slug,
            id=t.uid(401),
            resolution_id=draft.id,
            author_id=t.member,
            body=f"Ý kiến {t.label}",
            created_at=NOW,
        ),
        _notice(t, 501, None),
        _notice(t, 502, 12),
        Document(
            tenant_id=t.slug,
            id=t.uid(601),
            number=f"{t.index}-NQ/HU",
            issued_on=NOW.date(),
            title=f"Nghị quyết {t.label}",
            summary=f"Tóm tắt {t.label}",
        ),
    ]


async def load(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Write both provinces and each tenant's rows (each tenant in its own RLS transaction)."""
    async with sessionmaker() as session:
        session.add_all(
            [Province(id=k, name=v, timezone="Asia/Ho_Chi_Minh") for k, v in PROVINCES.items()]
        )
        await session.flush()
        session.add_all(
            [
                Tenant(
                    id=t.slug,
                    province_id=t.province,
                    name=f"Đảng bộ huyện {t.label}",
                    kind="district",
                )
                for t in TENANTS
            ]
        )
        await session.commit()
    for t in TENANTS:
        async with scope_session(sessionmaker(), t.slug) as session:
            for row in [*_hierarchy(t), *_members(t), *_handbook(t)]:
                session.add(row)
                await session.flush()
            await session.commit()
