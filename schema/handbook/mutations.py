"""Handbook mutations: each returns a payload with typed ``errors`` and is one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from rollout.flag_catalogue import FlagKey
from schema.context import Context
from schema.errors import UserError
from schema.fields import mutation
from schema.handbook.types import Meeting, Notice, ResolutionComment
from schema.permissions import Permission, requires
from schema.relay import decode_id
from schema.rollout.features import gated
from tenants.errors import TenantsError
from tenants.handbook import commands, models

T = TypeVar("T")


@strawberry.input
class ScheduleMeetingInput:
    branch_id: strawberry.ID
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    agenda: str = ""


@strawberry.input
class UpdateMeetingInput:
    id: strawberry.ID
    title: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    place: str | None = None
    agenda: str | None = None


@strawberry.input
class CancelMeetingInput:
    id: strawberry.ID
    reason: str


@strawberry.input
class AttendanceMarkInput:
    member_id: strawberry.ID
    status: models.AttendanceStatus


@strawberry.input
class RecordAttendanceInput:
    meeting_id: strawberry.ID
    marks: list[AttendanceMarkInput]


@strawberry.input
class PublishNoticeInput:
    kind: models.NoticeKind
    title: str
    body: str
    branch_id: strawberry.ID | None = strawberry.field(
        default=None, description="Null publishes to the whole tenant (tenant admins)."
    )


@strawberry.input
class CommentOnDraftResolutionInput:
    resolution_id: strawberry.ID
    body: str


@strawberry.type
class MeetingPayload:
    meeting: Meeting | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NoticePayload:
    notice: Notice | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CommentPayload:
    comment: ResolutionComment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _attempt(
    parse: Callable[[], dict[str, Any]],
    run: Callable[..., Awaitable[T]],
) -> tuple[T | None, list[UserError]]:
    """Parse the input, run the command; expected errors become payload errors."""
    try:
        return await run(**parse()), []
    except TenantsError as exc:
        return None, [UserError.from_domain(exc)]


@strawberry.type
class HandbookMutation:
    @mutation(extensions=requires(Permission.MANAGE_MEETINGS) + gated(FlagKey.MEETINGS))
    async def schedule_meeting(
        self, info: Info[Context, None], input: ScheduleMeetingInput
    ) -> MeetingPayload:
        ctx = info.context

        def parse() -> dict[str, Any]:
            draft = commands.MeetingDraft(
                branch_id=decode_id("Branch", input.branch_id, field="branchId"),
                title=input.title,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                place=input.place,
                agenda=input.agenda,
            )
            return {"draft": draft}

        actor = await ctx.actor()
        row, errors = await _attempt(
            parse, lambda **kw: ctx.command(commands.schedule_meeting, actor=actor, **kw)
        )
        return MeetingPayload(meeting=Meeting.from_model(row) if row else None, errors=errors)

    @mutation(extensions=requires(Permission.MANAGE_MEETINGS) + gated(FlagKey.MEETINGS))
    async def update_meeting(
        self, info: Info[Context, None], input: UpdateMeetingInput
    ) -> MeetingPayload:
        ctx = info.context

        def parse() -> dict[str, Any]:
            changes = commands.MeetingChanges(
                title=input.title,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                place=input.place,
                agenda=input.agenda,
            )
            return {"meeting_id": decode_id("Meeting", input.id), "changes": changes}

        actor = await ctx.actor()
        row, errors = await _attempt(
            parse, lambda **kw: ctx.command(commands.update_meeting, actor=actor, **kw)
        )
        return MeetingPayload(meeting=Meeting.from_model(row) if row else None, errors=errors)

    @mutation(extensions=requires(Permission.MANAGE_MEETINGS) + gated(FlagKey.MEETINGS))
    async def cancel_meeting(
        self, info: Info[Context, None], input: CancelMeetingInput
    ) -> MeetingPayload:
        ctx = info.context
        actor = await ctx.actor()
        row, errors = await _attempt(
            lambda: {"meeting_id": decode_id("Meeting", input.id), "reason": input.reason},
            lambda **kw: ctx.command(commands.cancel_meeting, actor=actor, **kw),
        )
        return MeetingPayload(meeting=Meeting.from_model(row) if row else None, errors=errors)

    @mutation(extensions=requires(Permission.MANAGE_MEETINGS) + gated(FlagKey.MEETINGS))
    async def record_attendance(
        self, info: Info[Context, None], input: RecordAttendanceInput
    ) -> MeetingPayload:
        ctx = info.context

        def parse() -> dict[str, Any]:
            marks = [
                (
                    decode_id("Member", mark.member_id, field="marks"),
                    models.AttendanceStatus(mark.status),
                )
                for mark in input.marks
            ]
            return {
                "meeting_id": decode_id("Meeting", input.meeting_id, field="meetingId"),
                "marks": marks,
            }

        actor = await ctx.actor()
        row, errors = await _attempt(
            parse,
            lambda **kw: ctx.command(commands.record_attendance, actor=actor, now=ctx.now, **kw),
        )
        return MeetingPayload(meeting=Meeting.from_model(row) if row else None, errors=errors)

    @mutation(extensions=requires(Permission.PUBLISH_NOTICES) + gated(FlagKey.NOTICES))
    async def publish_notice(
        self, info: Info[Context, None], input: PublishNoticeInput
    ) -> NoticePayload:
        ctx = info.context

        def parse() -> dict[str, Any]:
            branch = (
                decode_id("Branch", input.branch_id, field="branchId") if input.branch_id else None
            )
            return {
                "kind": input.kind.value,
                "title": input.title,
                "body": input.body,
                "branch_id": branch,
            }

        actor = await ctx.actor()
        row, errors = await _attempt(
            parse, lambda **kw: ctx.command(commands.publish_notice, actor=actor, now=ctx.now, **kw)
        )
        return NoticePayload(notice=Notice.from_model(row) if row else None, errors=errors)

    @mutation(
        extensions=requires(Permission.COMMENT_ON_DRAFTS) + gated(FlagKey.RESOLUTION_COMMENTS)
    )
    async def comment_on_draft_resolution(
        self, info: Info[Context, None], input: CommentOnDraftResolutionInput
    ) -> CommentPayload:
        ctx = info.context
        actor = await ctx.actor()
        row, errors = await _attempt(
            lambda: {
                "resolution_id": decode_id(
                    "DraftResolution", input.resolution_id, field="resolutionId"
                ),
                "body": input.body,
            },
            lambda **kw: ctx.command(
                commands.comment_on_draft_resolution, actor=actor, now=ctx.now, **kw
            ),
        )
        return CommentPayload(
            comment=ResolutionComment.from_model(row) if row else None, errors=errors
        )
