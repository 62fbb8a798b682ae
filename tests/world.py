"""A small, hand-made province with fixed ids, so tests can assert exact data.

A second province (Ha Nam, one tenant) proves that nothing of one province reaches another.
"""

from __future__ import annotations

import datetime as dt
import uuid

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


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


PROVINCE = "ninh-binh"
# The other province: Duy Tien, one branch, one member. Its admins cover nothing of Ninh Binh.
OTHER_PROVINCE = "ha-nam"
PROVINCES = (PROVINCE, OTHER_PROVINCE)
# Yen Mo: one commune committee with two branches; Kim Son: one branch.
YEN_MO, KIM_SON = "yen-mo", "kim-son"
DUY_TIEN = "duy-tien"
DT_ORG, DT_BRANCH, DT_MEMBER = uid(300), uid(310), uid(3001)
YM_ORG, KS_ORG = uid(100), uid(200)
YM_BRANCH_A, YM_BRANCH_B, KS_BRANCH = uid(110), uid(120), uid(210)
YM_SECRETARY_A = uid(1001)  # secretary of branch A
YM_MEMBER_A = uid(1002)  # plain member of branch A
YM_MEMBER_A2 = uid(1003)
YM_SECRETARY_B = uid(1101)
YM_MEMBER_B = uid(1102)
KS_MEMBER = uid(2001)
KS_SECRETARY = uid(2002)
YM_UPCOMING_A = uid(5001)
YM_PAST_A = uid(5002)
YM_UPCOMING_B = uid(5003)
KS_UPCOMING = uid(6001)
YM_DRAFT_A = uid(7001)
YM_CLOSED_DRAFT_A = uid(7002)
KS_DRAFT = uid(7101)
YM_NOTICE_TENANT = uid(8001)
YM_NOTICE_B = uid(8002)
KS_NOTICE = uid(8101)
YM_DOCUMENT = uid(9001)

MEMBERS = {
    YEN_MO: [
        (YM_SECRETARY_A, YM_BRANCH_A, "Nguyễn Văn An", "Bí thư chi bộ", True),
        (YM_MEMBER_A, YM_BRANCH_A, "Trần Thị Bình", "Đảng viên", False),
        (YM_MEMBER_A2, YM_BRANCH_A, "Lê Đức Cường", "Đảng viên", False),
        (YM_SECRETARY_B, YM_BRANCH_B, "Phạm Thu Hà", "Bí thư chi bộ", False),
        (YM_MEMBER_B, YM_BRANCH_B, "Đỗ Minh Khánh", "Đảng viên", False),
    ],
    KIM_SON: [
        (KS_MEMBER, KS_BRANCH, "Bùi Văn Sơn", "Đảng viên", True),
        (KS_SECRETARY, KS_BRANCH, "Vũ Thị Lan", "Bí thư chi bộ", False),
    ],
    DUY_TIEN: [(DT_MEMBER, DT_BRANCH, "Ngô Văn Tiến", "Đảng viên", False)],
}


def _meeting(tenant: str, id_: uuid.UUID, branch: uuid.UUID, days: int, title: str) -> Meeting:
    starts = NOW + dt.timedelta(days=days)
    status = "held" if days < 0 else "scheduled"
    return Meeting(
        tenant_id=tenant,
        id=id_,
        branch_id=branch,
        title=title,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        place="Nhà văn hóa thôn",
        agenda="Nội dung sinh hoạt",
        status=status,
        version=1,
    )


def _draft(
    tenant: str, id_: uuid.UUID, branch: uuid.UUID, days: int, title: str
) -> DraftResolution:
    """A draft resolution closing ``days`` after NOW: still open, or closed when negative."""
    return DraftResolution(
        tenant_id=tenant,
        id=id_,
        branch_id=branch,
        title=title,
        body="Nội dung",
        status="open" if days > 0 else "closed",
        closes_at=NOW + dt.timedelta(days=days),
    )


def _notice(
    tenant: str,
    id_: uuid.UUID,
    branch: uuid.UUID | None,
    kind: str,
    title: str,
    body: str,
    *,
    by: str,
    days_ago: int,
) -> Notice:
    return Notice(
        tenant_id=tenant,
        id=id_,
        branch_id=branch,
        kind=kind,
        title=title,
        body=body,
        published_by=by,
        published_at=NOW - dt.timedelta(days=days_ago),
    )


def _rows() -> dict[str, list[object]]:
    rows: dict[str, list[object]] = {YEN_MO: [], KIM_SON: [], DUY_TIEN: []}
    rows[YEN_MO] += [
        Organisation(tenant_id=YEN_MO, id=YM_ORG, name="Đảng bộ xã Yên Phong"),
        Branch(tenant_id=YEN_MO, id=YM_BRANCH_A, organisation_id=YM_ORG, name="Chi bộ thôn 1"),
        Branch(tenant_id=YEN_MO, id=YM_BRANCH_B, organisation_id=YM_ORG, name="Chi bộ thôn 2"),
    ]
    rows[KIM_SON] += [
        Organisation(tenant_id=KIM_SON, id=KS_ORG, name="Đảng bộ xã Kim Chính"),
        Branch(tenant_id=KIM_SON, id=KS_BRANCH, organisation_id=KS_ORG, name="Chi bộ xóm 5"),
    ]
    rows[DUY_TIEN] += [
        Organisation(tenant_id=DUY_TIEN, id=DT_ORG, name="Đảng bộ xã Tiên Nội"),
        Branch(tenant_id=DUY_TIEN, id=DT_BRANCH, organisation_id=DT_ORG, name="Chi bộ thôn 3"),
    ]
    for tenant, members in MEMBERS.items():
        for id_, branch, name, position, believer in members:
            rows[tenant].append(
                Member(
                    tenant_id=tenant,
                    id=id_,
                    branch_id=branch,
                    full_name=name,
                    birth_year=1980,
                    joined_on=dt.date(2010, 5, 19),
                    position=position,
                    status="official",
                    is_religious_believer=believer,
                )
            )
    rows[YEN_MO] += [
        _meeting(YEN_MO, YM_UPCOMING_A, YM_BRANCH_A, 5, "Sinh hoạt chi bộ tháng 12"),
        _meeting(YEN_MO, YM_PAST_A, YM_BRANCH_A, -25, "Sinh hoạt chi bộ tháng 11"),
        _meeting(YEN_MO, YM_UPCOMING_B, YM_BRANCH_B, 6, "Sinh hoạt chi bộ thôn 2"),
        Attendance(
            tenant_id=YEN_MO,
            meeting_id=YM_PAST_A,
            member_id=YM_MEMBER_A,
            status="present",
            recorded_at=NOW - dt.timedelta(days=25),
        ),
        _draft(YEN_MO, YM_DRAFT_A, YM_BRANCH_A, 5, "Dự thảo nghị quyết tháng 12"),
        _draft(YEN_MO, YM_CLOSED_DRAFT_A, YM_BRANCH_A, -20, "Dự thảo nghị quyết tháng 11"),
        Document(
            tenant_id=YEN_MO,
            id=YM_DOCUMENT,
            number="21-NQ/TW",
            title="Nghị quyết 21-NQ/TW",
            issued_on=dt.date(2022, 6, 16),
            summary="Kết nạp ≥ 3% mỗi năm",
        ),
    ]
    rows[YEN_MO] += [
        _notice(
            YEN_MO,
            YM_NOTICE_TENANT,
            None,
            "party_task",
            "Cài đặt sổ tay đảng viên",
            "Toàn huyện",
            by="admin",
            days_ago=1,
        ),
        _notice(
            YEN_MO,
            YM_NOTICE_B,
            YM_BRANCH_B,
            "government_task",
            "Thủy lợi thôn 2",
            "Chỉ chi bộ thôn 2",
            by="secretary",
            days_ago=2,
        ),
    ]
    rows[KIM_SON] += [
        _meeting(KIM_SON, KS_UPCOMING, KS_BRANCH, 4, "Sinh hoạt chi bộ xóm 5"),
        _draft(KIM_SON, KS_DRAFT, KS_BRANCH, 5, "Dự thảo Kim Sơn"),
        ResolutionComment(
            tenant_id=KIM_SON,
            id=uid(7201),
            resolution_id=KS_DRAFT,
            author_id=KS_MEMBER,
            body="Ý kiến Kim Sơn",
            created_at=NOW,
        ),
        _notice(
            KIM_SON,
            KS_NOTICE,
            None,
            "general",
            "Thông báo Kim Sơn",
            "Kim Sơn",
            by="admin",
            days_ago=1,
        ),
    ]
    return rows


async def load_world(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Write the two provinces, their tenants and rows (each tenant in its own transaction)."""
    async with sessionmaker() as session:
        session.add(Province(id=PROVINCE, name="Ninh Bình", timezone="Asia/Ho_Chi_Minh"))
        session.add(Province(id=OTHER_PROVINCE, name="Hà Nam", timezone="Asia/Ho_Chi_Minh"))
        await session.flush()
        session.add_all(
            [
                Tenant(
                    id=YEN_MO, province_id=PROVINCE, name="Đảng bộ huyện Yên Mô", kind="district"
                ),
                Tenant(
                    id=KIM_SON, province_id=PROVINCE, name="Đảng bộ huyện Kim Sơn", kind="district"
                ),
                Tenant(
                    id=DUY_TIEN,
                    province_id=OTHER_PROVINCE,
                    name="Đảng bộ thị xã Duy Tiên",
                    kind="district",
                ),
            ]
        )
        await session.commit()
    for tenant, rows in _rows().items():
        async with scope_session(sessionmaker(), tenant) as session:
            for row in rows:
                session.add(row)
                await session.flush()
            await session.commit()
