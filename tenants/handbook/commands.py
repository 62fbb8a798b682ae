"""Handbook writes. Each command is one transaction: it commits, or leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tenants.handbook.access import Actor
from tenants.handbook.models import (
    Attendance,
    AttendanceStatus,
    DraftResolution,
    Meeting,
    MeetingStatus,
    Member,
    Notice,
    ResolutionComment,
    ResolutionStatus,
)
from tenants.handbook.validation import (
    BODY_MAX,
    PLACE_MAX,
    REASON_MAX,
    TITLE_MAX,
    check_period,
    clean_text,
)
from tenants.models import Branch

MAX_ATTENDANCE_ROWS = 500


@dataclass(frozen=True, slots=True)
class MeetingDraft:
    branch_id: uuid.UUID
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    agenda: str


@dataclass(frozen=True, slots=True)
class MeetingChanges:
    title: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    place: str | None = None
    agenda: str | None = None


async def _branch_managed_or_raise(
    session: AsyncSession, tenant_id: str, actor: Actor, branch_id: uuid.UUID
) -> Branch:
    branch = await session.get(Branch, (tenant_id, branch_id))
    if branch is None:
        raise NotFound("Branch", field="branchId")
    if not actor.manages_branch(branch_id):
        raise NotAllowed("You may only manage your own branch.", field="branchId")
    return branch


async def _meeting_managed_or_raise(
    session: AsyncSession, tenant_id: str, actor: Actor, meeting_id: uuid.UUID
) -> Meeting:
    meeting = await session.get(Meeting, (tenant_id, meeting_id), with_for_update=True)
    if meeting is None:
        raise NotFound("Meeting", field="id")
    if not actor.manages_branch(meeting.branch_id):
        raise NotAllowed("You may only manage your own branch's meetings.", field="id")
    return meeting


async def schedule_meeting(
    *, session: AsyncSession, tenant_id: str, actor: Actor, draft: MeetingDraft
) -> Meeting:
    """Schedule a branch meeting."""
    await _branch_managed_or_raise(session, tenant_id, actor, draft.branch_id)
    check_period(draft.starts_at, draft.ends_at)
    meeting = Meeting(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        branch_id=draft.branch_id,
        title=clean_text(draft.title, field="title", max_length=TITLE_MAX),
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        place=clean_text(draft.place, field="place", max_length=PLACE_MAX),
        agenda=clean_text(draft.agenda, field="agenda", max_length=BODY_MAX, required=False),
        status=MeetingStatus.SCHEDULED.value,
        version=1,
    )
    session.add(meeting)
    await session.commit()
    return meeting


async def update_meeting(
    *,
    session: AsyncSession,
    tenant_id: str,
    actor: Actor,
    meeting_id: uuid.UUID,
    changes: MeetingChanges,
) -> Meeting:
    """Change a scheduled meeting's title, time, place or agenda."""
    meeting = await _meeting_managed_or_raise(session, tenant_id, actor, meeting_id)
    if meeting.status != MeetingStatus.SCHEDULED.value:
        raise Conflict(f"A {meeting.status} meeting cannot be changed.", field="id")
    starts_at = changes.starts_at or meeting.starts_at
    ends_at = changes.ends_at or meeting.ends_at
    check_period(starts_at, ends_at)
    if changes.title is not None:
        meeting.title = clean_text(changes.title, field="title", max_length=TITLE_MAX)
    if changes.place is not None:
        meeting.place = clean_text(changes.place, field="place", max_length=PLACE_MAX)
    if changes.agenda is not None:
        meeting.agenda = clean_text(
            changes.agenda, field="agenda", max_length=BODY_MAX, required=False
        )
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.version += 1
    await session.commit()
    return meeting


async def cancel_meeting(
    *, session: AsyncSession, tenant_id: str, actor: Actor, meeting_id: uuid.UUID, reason: str
) -> Meeting:
    """Cancel a scheduled meeting, with the reason members will read."""
    meeting = await _meeting_managed_or_raise(session, tenant_id, actor, meeting_id)
    if meeting.status != MeetingStatus.SCHEDULED.value:
        raise Conflict(f"A {meeting.status} meeting cannot be cancelled.", field="id")
    meeting.cancel_reason = clean_text(reason, field="reason", max_length=REASON_MAX)
    meeting.status = MeetingStatus.CANCELLED.value
    meeting.version += 1
    await session.commit()
    return meeting


async def record_attendance(
    *,
    session: AsyncSession,
    tenant_id: str,
    actor: Actor,
    meeting_id: uuid.UUID,
    marks: Sequence[tuple[uuid.UUID, AttendanceStatus]],
    now: dt.datetime,
) -> Meeting:
    """Record who attended a started meeting; marks replace earlier ones for those members."""
    meeting = await _meeting_managed_or_raise(session, tenant_id, actor, meeting_id)
    if meeting.status == MeetingStatus.CANCELLED.value:
        raise Conflict("Attendance cannot be recorded for a cancelled meeting.", field="meetingId")
    if meeting.starts_at > now:
        raise Conflict(
            "Attendance can be recorded once the meeting has started.", field="meetingId"
        )
    member_ids = [member_id for member_id, _ in marks]
    await _check_marked_members(session, tenant_id, meeting, member_ids)
    await session.execute(
        delete(Attendance).where(
            Attendance.tenant_id == tenant_id,
            Attendance.meeting_id == meeting_id,
            Attendance.member_id.in_(member_ids),
        )
    )
    session.add_all(
        Attendance(
            tenant_id=tenant_id,
            meeting_id=meeting_id,
            member_id=member_id,
            status=status.value,
            recorded_at=now,
        )
        for member_id, status in marks
    )
    meeting.status = MeetingStatus.HELD.value
    meeting.version += 1
    await session.commit()
    return meeting


async def _check_marked_members(
    session: AsyncSession, tenant_id: str, meeting: Meeting, member_ids: list[uuid.UUID]
) -> None:
    """1 to MAX_ATTENDANCE_ROWS distinct members, every one of the meeting's branch."""
    if not member_ids or len(member_ids) > MAX_ATTENDANCE_ROWS:
        raise InvalidInput(f"Give 1 to {MAX_ATTENDANCE_ROWS} marks.", field="marks")
    if len(set(member_ids)) != len(member_ids):
        raise InvalidInput("A member is marked more than once.", field="marks")
    branch_members = set(
        await session.scalars(
            select(Member.id).where(
                Member.tenant_id == tenant_id,
                Member.branch_id == meeting.branch_id,
                Member.id.in_(member_ids),
            )
        )
    )
    if missing := [m for m in member_ids if m not in branch_members]:
        raise InvalidInput(
            f"{len(missing)} of the marked members are not in this meeting's branch.",
            field="marks",
        )


async def publish_notice(
    *,
    session: AsyncSession,
    tenant_id: str,
    actor: Actor,
    kind: str,
    title: str,
    body: str,
    branch_id: uuid.UUID | None,
    now: dt.datetime,
) -> Notice:
    """Publish a notice to the whole tenant (admins) or one branch (its secretary too)."""
    if branch_id is None:
        if not actor.manages_tenant:
            raise NotAllowed("Only tenant admins publish to the whole tenant.", field="branchId")
    else:
        await _branch_managed_or_raise(session, tenant_id, actor, branch_id)
    notice = Notice(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        branch_id=branch_id,
        kind=kind,
        title=clean_text(title, field="title", max_length=TITLE_MAX),
        body=clean_text(body, field="body", max_length=BODY_MAX),
        published_at=now,
        published_by=actor.subject,
    )
    session.add(notice)
    await session.commit()
    return notice


async def comment_on_draft_resolution(
    *,
    session: AsyncSession,
    tenant_id: str,
    actor: Actor,
    resolution_id: uuid.UUID,
    body: str,
    now: dt.datetime,
) -> ResolutionComment:
    """A member of the branch comments on its open draft resolution."""
    draft = await session.get(DraftResolution, (tenant_id, resolution_id))
    if draft is None:
        raise NotFound("Draft resolution", field="resolutionId")
    if actor.member_id is None or actor.branch_id != draft.branch_id:
        raise NotAllowed("Only members of the branch comment on its drafts.", field="resolutionId")
    if draft.status != ResolutionStatus.OPEN.value or draft.closes_at <= now:
        raise Conflict("This draft resolution is closed for comments.", field="resolutionId")
    comment = ResolutionComment(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        resolution_id=resolution_id,
        author_id=actor.member_id,
        body=clean_text(body, field="body", max_length=BODY_MAX),
        created_at=now,
    )
    session.add(comment)
    await session.commit()
    return comment
