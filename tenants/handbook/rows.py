"""The handbook's hot reads as plain rows: frozen dataclasses filled from SQLAlchemy Core rows.

Reads that serve many requests (a member's home, lists of members) skip the ORM's per-row
bookkeeping (identity map, instance state): their statements are built once at import, with
bound parameters, and each row becomes a slotted dataclass with the attribute names of the
model (``tenants.handbook.models``), so the GraphQL types read either alike.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tenants.handbook.models import Meeting, Member, Notice

MEMBERS = Member.__table__
MEETINGS = Meeting.__table__
NOTICES = Notice.__table__


@dataclass(frozen=True, slots=True)
class MemberRow:
    tenant_id: str
    id: uuid.UUID
    branch_id: uuid.UUID
    full_name: str
    birth_year: int
    joined_on: dt.date
    position: str
    status: str
    is_religious_believer: bool


@dataclass(frozen=True, slots=True)
class MeetingRow:
    tenant_id: str
    id: uuid.UUID
    branch_id: uuid.UUID
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    agenda: str
    status: str
    cancel_reason: str | None
    version: int


@dataclass(frozen=True, slots=True)
class NoticeRow:
    tenant_id: str
    id: uuid.UUID
    branch_id: uuid.UUID | None
    kind: str
    title: str
    body: str
    published_at: dt.datetime
    published_by: str


def as_member(row: Sequence[Any]) -> MemberRow:
    return MemberRow(*row)


def as_meeting(row: Sequence[Any]) -> MeetingRow:
    return MeetingRow(*row)


def as_notice(row: Sequence[Any]) -> NoticeRow:
    return NoticeRow(*row)


# What the GraphQL types wrap: a hot read's row or a model loaded by the ORM.
AnyMember = Member | MemberRow
AnyMeeting = Meeting | MeetingRow
AnyNotice = Notice | NoticeRow
