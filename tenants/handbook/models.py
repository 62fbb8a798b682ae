"""Handbook rows. Every table is tenant-owned: keys and indexes lead with ``tenant_id``."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UtcDateTime


class MemberStatus(StrEnum):
    OFFICIAL = "official"
    PROBATIONARY = "probationary"
    TRANSFERRED = "transferred"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


class NoticeKind(StrEnum):
    PARTY_TASK = "party_task"
    GOVERNMENT_TASK = "government_task"
    GENERAL = "general"


class ResolutionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def _branch_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "branch_id"], ["branches.tenant_id", "branches.id"])


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        _branch_fk(),
        Index("ix_members_tenant_branch_name", "tenant_id", "branch_id", "full_name", "id"),
        Index("ix_members_tenant_name", "tenant_id", "full_name", "id"),
    )

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int] = mapped_column(Integer)
    joined_on: Mapped[dt.date] = mapped_column(Date)
    position: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=MemberStatus.OFFICIAL.value)
    is_religious_believer: Mapped[bool] = mapped_column(Boolean, default=False)


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        _branch_fk(),
        Index("ix_meetings_tenant_branch_starts", "tenant_id", "branch_id", "starts_at"),
        Index("ix_meetings_tenant_starts", "tenant_id", "starts_at"),
    )

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    place: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.SCHEDULED.value)
    cancel_reason: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "meeting_id"], ["meetings.tenant_id", "meetings.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        Index("ix_attendance_tenant_member", "tenant_id", "member_id"),
    )

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Notice(Base):
    """A party or government task; audience is the whole tenant or one branch."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_tenant_published", "tenant_id", "published_at"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    branch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    published_by: Mapped[str] = mapped_column(String(200))


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_tenant_issued", "tenant_id", "issued_on"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)


class DraftResolution(Base):
    __tablename__ = "draft_resolutions"
    __table_args__ = (_branch_fk(), Index("ix_drafts_tenant_branch", "tenant_id", "branch_id"))

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ResolutionStatus.OPEN.value)
    closes_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ResolutionComment(Base):
    __tablename__ = "resolution_comments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "resolution_id"], ["draft_resolutions.tenant_id", "draft_resolutions.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "author_id"], ["members.tenant_id", "members.id"]),
        Index("ix_comments_tenant_resolution", "tenant_id", "resolution_id", "created_at"),
    )

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    resolution_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class MemberErasure(Base):
    """A member whose personal data was erased (Decree 13/2023): who, when, how much; never
    what (migration 0010). The key makes a second erasure of the member a conflict."""

    __tablename__ = "member_erasures"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    )

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    erased_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    events: Mapped[int] = mapped_column(Integer)
    devices: Mapped[int] = mapped_column(Integer)


TENANT_OWNED_TABLES = (
    "organisations",
    "branches",
    "members",
    "meetings",
    "attendance",
    "notices",
    "documents",
    "draft_resolutions",
    "resolution_comments",
    "member_erasures",
)


class MembershipStart(StrEnum):
    JOINED = "joined"
    TRANSFERRED_IN = "transferred_in"


class MembershipEnd(StrEnum):
    TRANSFERRED_OUT = "transferred_out"
    LEFT = "left"


class MemberMembership(Base):
    """One stay of a member in a tenant, from ``started_on`` to ``ended_on`` (its last day,
    null while it lasts). Triggers keep ``adoption_member_counts`` from these rows
    (migration 0013), so members at a past date do not change when a member moves later."""

    __tablename__ = "member_memberships"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    started_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    ended_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    began: Mapped[str] = mapped_column(String(20))
    ended: Mapped[str | None] = mapped_column(String(20), default=None)
