"""Build one demo tenant's rows in memory, deterministically from a seed."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tenants.demo import names
from tenants.demo.province import (
    BELIEVER_SHARE,
    DEFAULT_BELIEVER_SHARE,
    DOCUMENTS,
    TIMEZONE,
    YEN_MO_COMMUNES,
    DemoTenant,
)
from tenants.handbook.models import (
    AttendanceStatus,
    MeetingStatus,
    MemberStatus,
    NoticeKind,
    ResolutionStatus,
)

Row = dict[str, Any]
SECRETARY = "Bí thư chi bộ"
DEPUTY = "Phó Bí thư chi bộ"
MEMBER = "Đảng viên"
PAST_MONTHS = 3


@dataclass
class TenantRows:
    organisations: list[Row] = field(default_factory=list)
    branches: list[Row] = field(default_factory=list)
    members: list[Row] = field(default_factory=list)
    meetings: list[Row] = field(default_factory=list)
    attendance: list[Row] = field(default_factory=list)
    notices: list[Row] = field(default_factory=list)
    documents: list[Row] = field(default_factory=list)
    drafts: list[Row] = field(default_factory=list)
    comments: list[Row] = field(default_factory=list)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _split(rng: random.Random, total: int, parts: int, minimum: int) -> list[int]:
    """Split ``total`` into ``parts`` random shares of at least ``minimum``, summing exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    spare = total - minimum * parts
    shares = [minimum + int(spare * w / sum(weights)) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % parts] += 1
    return shares


def _organisation_names(rng: random.Random, tenant: DemoTenant) -> list[str]:
    if tenant.slug == "yen-mo":
        communes = list(YEN_MO_COMMUNES)
    else:
        communes = names.place_names(rng, min(tenant.organisations, 40))
    kinds = (
        "Đảng bộ xã {}",
        "Chi bộ Trường THCS {}",
        "Chi bộ Trường Tiểu học {}",
        "Chi bộ Trạm Y tế {}",
        "Chi bộ Hợp tác xã {}",
    )
    all_names = [kind.format(c) for kind in kinds for c in communes]
    return [names.nfc(n) for n in all_names[: tenant.organisations]]


def build_tenant(tenant: DemoTenant, *, seed: int, today: dt.date) -> TenantRows:
    """Every row of one tenant: hierarchy, members, meetings, notices, documents, drafts."""
    rng = random.Random(f"{seed}:{tenant.slug}")
    rows = TenantRows()
    t = tenant.slug
    for org_name in _organisation_names(rng, tenant):
        org_id = _uuid(rng)
        rows.organisations.append(
            {"tenant_id": t, "id": org_id, "parent_id": None, "name": org_name}
        )
        for k in range(1, rng.randint(2, 6) + 1):
            label = f"Chi bộ thôn {k}" if org_name.startswith("Đảng bộ") else f"Chi bộ số {k}"
            rows.branches.append(
                {"tenant_id": t, "id": _uuid(rng), "organisation_id": org_id, "name": label}
            )
    shares = _split(rng, tenant.members, len(rows.branches), minimum=3)
    believers = BELIEVER_SHARE.get(t, DEFAULT_BELIEVER_SHARE)
    for branch, size in zip(rows.branches, shares, strict=True):
        for position in range(size):
            rows.members.append(_member(rng, t, branch["id"], position, believers, today))
    _add_meetings(rng, rows, t, today)
    _add_notices(rng, rows, t, today)
    _add_documents(rng, rows, t)
    _add_drafts(rng, rows, t, today)
    return rows


def _member(
    rng: random.Random, t: str, branch_id: uuid.UUID, index: int, believers: float, today: dt.date
) -> Row:
    birth_year = rng.randint(1945, today.year - 20)
    joined_year = rng.randint(birth_year + 18, min(today.year, birth_year + 60))
    joined_on = dt.date(joined_year, rng.randint(1, 12), rng.randint(1, 28))
    probationary = (today - joined_on).days < 365
    return {
        "tenant_id": t,
        "id": _uuid(rng),
        "branch_id": branch_id,
        "full_name": names.full_name(rng),
        "birth_year": birth_year,
        "joined_on": min(joined_on, today),
        "position": SECRETARY if index == 0 else DEPUTY if index == 1 else MEMBER,
        "status": (MemberStatus.PROBATIONARY if probationary else MemberStatus.OFFICIAL).value,
        "is_religious_believer": rng.random() < believers,
    }


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), ZoneInfo(TIMEZONE)).astimezone(dt.UTC)


def _month_day(today: dt.date, months_ahead: int, day: int) -> dt.date:
    month_index = today.year * 12 + today.month - 1 + months_ahead
    return dt.date(month_index // 12, month_index % 12 + 1, day)


def _add_meetings(rng: random.Random, rows: TenantRows, t: str, today: dt.date) -> None:
    """A monthly meeting per branch from PAST_MONTHS ago to next month; attendance at the last
    one held."""
    now = _local(today, 12)
    members = _members_by_branch(rows)
    for branch in rows.branches:
        last_held: uuid.UUID | None = None
        for offset in range(-PAST_MONTHS, 2):
            day = _month_day(today, offset, rng.randint(3, 10))
            meeting = _meeting(t, _uuid(rng), branch, day, now)
            rows.meetings.append(meeting)
            if meeting["status"] == MeetingStatus.HELD.value:
                last_held = meeting["id"]
        if last_held is not None:
            for member_id in members.get(branch["id"], []):
                rows.attendance.append(_attendance(rng, t, last_held, member_id, now))


def _members_by_branch(rows: TenantRows) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for member in rows.members:
        found.setdefault(member["branch_id"], []).append(member["id"])
    return found


def _meeting(t: str, meeting_id: uuid.UUID, branch: Row, day: dt.date, now: dt.datetime) -> Row:
    starts = _local(day, 8)
    held = starts + dt.timedelta(hours=3) < now
    return {
        "tenant_id": t,
        "id": meeting_id,
        "branch_id": branch["id"],
        "title": f"Sinh hoạt chi bộ định kỳ tháng {day.month:02d}/{day.year}",
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=3),
        "place": f"Nhà văn hóa {branch['name'].removeprefix('Chi bộ ')}",
        "agenda": "1. Đánh giá kết quả tháng trước\n2. Nhiệm vụ tháng tới\n"
        "3. Sinh hoạt chuyên đề: học tập và làm theo tư tưởng Hồ Chí Minh",
        "status": (MeetingStatus.HELD if held else MeetingStatus.SCHEDULED).value,
        "cancel_reason": None,
        "version": 1,
    }


def _attendance(
    rng: random.Random, t: str, meeting_id: uuid.UUID, member_id: uuid.UUID, now: dt.datetime
) -> Row:
    """Most members present, some excused, a few absent."""
    roll = rng.random()
    status = (
        AttendanceStatus.PRESENT
        if roll < 0.86
        else AttendanceStatus.EXCUSED
        if roll < 0.96
        else AttendanceStatus.ABSENT
    )
    return {
        "tenant_id": t,
        "meeting_id": meeting_id,
        "member_id": member_id,
        "status": status.value,
        "recorded_at": now,
    }


NOTICES = (
    (
        NoticeKind.PARTY_TASK,
        "Triển khai sổ tay đảng viên điện tử",
        "Đề nghị các chi bộ hướng dẫn đảng viên cài đặt và đăng nhập sổ tay đảng viên điện tử.",
    ),
    (
        NoticeKind.PARTY_TASK,
        "Kiểm điểm, đánh giá chất lượng đảng viên cuối năm",
        "Các chi bộ tổ chức kiểm điểm, đánh giá, xếp loại đảng viên theo Hướng dẫn 12-HD/BTCTW.",
    ),
    (
        NoticeKind.GOVERNMENT_TASK,
        "Ra quân làm thủy lợi nội đồng vụ Đông Xuân",
        "Đảng viên gương mẫu tham gia và vận động nhân dân ra quân làm thủy lợi.",
    ),
    (NoticeKind.GOVERNMENT_TASK, "Phòng, chống bão lũ", "Chủ động phương án bảo vệ đê điều."),
    (
        NoticeKind.GENERAL,
        "Học tập Nghị quyết 21-NQ/TW",
        "Mỗi năm kết nạp đảng viên mới đạt từ 3% trở lên so với tổng số đảng viên.",
    ),
)


def _add_notices(rng: random.Random, rows: TenantRows, t: str, today: dt.date) -> None:
    """The tenant-wide notices, a week apart, the latest yesterday."""
    for days_ago, (kind, title, body) in enumerate(NOTICES):
        rows.notices.append(
            {
                "tenant_id": t,
                "id": _uuid(rng),
                "branch_id": None,
                "kind": kind.value,
                "title": names.nfc(title),
                "body": names.nfc(body),
                "published_at": _local(today - dt.timedelta(days=7 * days_ago + 1), 9),
                "published_by": f"{t}-organisation-department",
            }
        )


def _add_documents(rng: random.Random, rows: TenantRows, t: str) -> None:
    for number, issued, title, summary in DOCUMENTS:
        rows.documents.append(
            {
                "tenant_id": t,
                "id": _uuid(rng),
                "number": number,
                "title": names.nfc(title),
                "issued_on": dt.date.fromisoformat(issued),
                "summary": names.nfc(summary),
            }
        )


def _add_drafts(rng: random.Random, rows: TenantRows, t: str, today: dt.date) -> None:
    """Next month's open draft resolution per branch, with comments by up to two members."""
    authors = _members_by_branch(rows)
    month = _month_day(today, 1, 1)
    for branch in rows.branches:
        draft_id = _uuid(rng)
        rows.drafts.append(
            {
                "tenant_id": t,
                "id": draft_id,
                "branch_id": branch["id"],
                "title": f"Dự thảo nghị quyết chi bộ tháng {month.month:02d}/{month.year}",
                "body": "Chi bộ quyết nghị: lãnh đạo hoàn thành nhiệm vụ chính trị tháng tới.",
                "status": ResolutionStatus.OPEN.value,
                "closes_at": _local(month, 0),
            }
        )
        for author in rng.sample(authors[branch["id"]], k=min(2, len(authors[branch["id"]]))):
            rows.comments.append(
                {
                    "tenant_id": t,
                    "id": _uuid(rng),
                    "resolution_id": draft_id,
                    "author_id": author,
                    "body": "Đề nghị bổ sung nhiệm vụ vận động nhân dân cài đặt ứng dụng.",
                    "created_at": _local(today - dt.timedelta(days=1), 20),
                }
            )
