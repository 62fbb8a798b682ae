"""GraphQL types of the handbook; each wraps its row and resolves relations through loaders.

A row's relations are loaded in the row's own tenant (``loaders_for(row.tenant_id)``), which is
the request's, or the tenant a province role read by slug.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.errors import bad_input
from schema.fields import field
from schema.handbook import references
from schema.handbook.loaders import HandbookLoaders
from schema.permissions import Permission, requires
from schema.relay import encode_cursor, encode_id
from tenants.handbook import models
from tenants.handbook.rows import AnyMeeting, AnyMember, AnyNotice
from tenants.handbook.service import When
from tenants.models import Organisation as OrganisationRow
from tenants.rows import AnyBranch as BranchRow

MAX_PAGE = 100
MAX_SEARCH = 100
R = TypeVar("R")

# Marks each domain enum itself as a GraphQL enum, so fields can be annotated with it.
strawberry.enum(models.MemberStatus, name="MemberStatus")
strawberry.enum(models.MeetingStatus, name="MeetingStatus")
strawberry.enum(models.AttendanceStatus, name="AttendanceStatus")
strawberry.enum(models.NoticeKind, name="NoticeKind")
strawberry.enum(models.ResolutionStatus, name="ResolutionStatus")
strawberry.enum(When, name="MeetingWhen")


def _referenced(row: R | None) -> R:
    """The row a foreign key points at; were it missing, that is a bug, reported masked."""
    if row is None:
        raise LookupError("A row referenced by a foreign key is missing.")
    return row


def _loaders(info: Info[Context, None], tenant_id: str) -> HandbookLoaders:
    """The DataLoaders of a row's tenant."""
    return info.context.loaders_for(tenant_id)


def check_search(search: str | None) -> str | None:
    """Search text is NFC, trimmed, at most 100 characters; empty means no search."""
    if search is None:
        return None
    text = unicodedata.normalize("NFC", search).strip()
    if len(text) > MAX_SEARCH:
        raise bad_input(f"'search' is at most {MAX_SEARCH} characters; got {len(text)}.")
    return text or None


def check_first(first: int) -> int:
    """Page sizes run from 1 to 100."""
    if not 1 <= first <= MAX_PAGE:
        raise bad_input(f"'first' must be between 1 and {MAX_PAGE}; got {first}.")
    return first


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class MemberEdge:
    cursor: str
    node: Member


@strawberry.type
class MemberConnection:
    edges: list[MemberEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_rows(
        cls, rows: Sequence[AnyMember], *, has_next: bool, total: int
    ) -> MemberConnection:
        edges = [
            MemberEdge(cursor=encode_cursor(row.full_name, row.id), node=Member.from_model(row))
            for row in rows
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=total,
        )


@strawberry.federation.type(keys=["id"], description="A party member (đảng viên) of the tenant.")
class Member:
    row: strawberry.Private[AnyMember]
    id: strawberry.ID
    full_name: str
    birth_year: int
    joined_on: dt.date
    position: str
    status: models.MemberStatus

    @field(extensions=requires(Permission.READ_MEMBER_DETAILS))
    def is_religious_believer(self) -> bool:
        return self.row.is_religious_believer

    @strawberry.field
    async def branch(self, info: Info[Context, None]) -> Branch:
        row = await _loaders(info, self.row.tenant_id).branch_by_id.load(self.row.branch_id)
        return Branch.from_model(_referenced(row))

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID) -> Member:
        return cls.from_model(await references.member_or_raise(info, id))

    @classmethod
    def from_model(cls, row: AnyMember) -> Member:
        return cls(
            row=row,
            id=encode_id("Member", row.id),
            full_name=row.full_name,
            birth_year=row.birth_year,
            joined_on=row.joined_on,
            position=row.position,
            status=models.MemberStatus(row.status),
        )


@strawberry.type(description="A grassroots party organisation (Đảng bộ/Chi bộ cơ sở).")
class Organisation:
    id: strawberry.ID
    name: str

    @classmethod
    def from_model(cls, row: OrganisationRow) -> Organisation:
        return cls(id=encode_id("Organisation", row.id), name=row.name)


@strawberry.federation.type(
    keys=["id"], description="A party branch (chi bộ), where members meet monthly."
)
class Branch:
    row: strawberry.Private[BranchRow]
    id: strawberry.ID
    name: str

    @strawberry.field
    async def organisation(self, info: Info[Context, None]) -> Organisation:
        loaders = _loaders(info, self.row.tenant_id)
        row = await loaders.organisation_by_id.load(self.row.organisation_id)
        return Organisation.from_model(_referenced(row))

    @strawberry.field
    async def member_count(self, info: Info[Context, None]) -> int:
        loaders = _loaders(info, self.row.tenant_id)
        return int(await loaders.member_count_by_branch.load(self.row.id))

    @field(description="The branch's first members by name; page on with Query.members.")
    async def members(self, info: Info[Context, None], first: int = 20) -> MemberConnection:
        size = check_first(first)
        loaders = _loaders(info, self.row.tenant_id)
        rows = await loaders.members_by_branch.load((self.row.id, size))
        total = await loaders.member_count_by_branch.load(self.row.id)
        return MemberConnection.from_rows(rows, has_next=total > len(rows), total=total)

    @strawberry.field
    async def meetings(
        self,
        info: Info[Context, None],
        when: When = When.UPCOMING,
    ) -> list[Meeting]:
        loaders = _loaders(info, self.row.tenant_id)
        rows = await loaders.meetings_by_branch.load((self.row.id, When(when)))
        return [Meeting.from_model(row) for row in rows]

    @strawberry.field
    async def draft_resolutions(self, info: Info[Context, None]) -> list[DraftResolution]:
        rows = await _loaders(info, self.row.tenant_id).drafts_by_branch.load(self.row.id)
        return [DraftResolution.from_model(row) for row in rows]

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID) -> Branch:
        return cls.from_model(await references.branch_or_raise(info, id))

    @classmethod
    def from_model(cls, row: BranchRow) -> Branch:
        return cls(row=row, id=encode_id("Branch", row.id), name=row.name)


@strawberry.type
class AttendanceRecord:
    row: strawberry.Private[models.Attendance]
    status: models.AttendanceStatus
    recorded_at: dt.datetime

    @strawberry.field
    async def member(self, info: Info[Context, None]) -> Member:
        row = await _loaders(info, self.row.tenant_id).member_by_id.load(self.row.member_id)
        return Member.from_model(_referenced(row))


@strawberry.federation.type(
    keys=["id"], description="A branch meeting: time, place, agenda, attendance."
)
class Meeting:
    row: strawberry.Private[AnyMeeting]
    id: strawberry.ID
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    agenda: str
    status: models.MeetingStatus
    cancel_reason: str | None

    @strawberry.field
    async def branch(self, info: Info[Context, None]) -> Branch:
        row = await _loaders(info, self.row.tenant_id).branch_by_id.load(self.row.branch_id)
        return Branch.from_model(_referenced(row))

    @strawberry.field
    async def attendance(self, info: Info[Context, None]) -> list[AttendanceRecord]:
        rows = await _loaders(info, self.row.tenant_id).attendance_by_meeting.load(self.row.id)
        return [
            AttendanceRecord(
                row=row, status=models.AttendanceStatus(row.status), recorded_at=row.recorded_at
            )
            for row in rows
        ]

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID) -> Meeting:
        return cls.from_model(await references.meeting_or_raise(info, id))

    @classmethod
    def from_model(cls, row: AnyMeeting) -> Meeting:
        return cls(
            row=row,
            id=encode_id("Meeting", row.id),
            title=row.title,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            place=row.place,
            agenda=row.agenda,
            status=models.MeetingStatus(row.status),
            cancel_reason=row.cancel_reason,
        )


@strawberry.type(description="A party or government task for the whole tenant or one branch.")
class Notice:
    row: strawberry.Private[AnyNotice]
    id: strawberry.ID
    kind: models.NoticeKind
    title: str
    body: str
    published_at: dt.datetime

    @field(description="The branch addressed, or null for the whole tenant.")
    async def branch(self, info: Info[Context, None]) -> Branch | None:
        if self.row.branch_id is None:
            return None
        row = await _loaders(info, self.row.tenant_id).branch_by_id.load(self.row.branch_id)
        return Branch.from_model(_referenced(row))

    @classmethod
    def from_model(cls, row: AnyNotice) -> Notice:
        return cls(
            row=row,
            id=encode_id("Notice", row.id),
            kind=models.NoticeKind(row.kind),
            title=row.title,
            body=row.body,
            published_at=row.published_at,
        )


@strawberry.type(description="A party document, e.g. Resolution 21-NQ/TW.")
class Document:
    id: strawberry.ID
    number: str
    title: str
    issued_on: dt.date
    summary: str

    @classmethod
    def from_model(cls, row: models.Document) -> Document:
        return cls(
            id=encode_id("Document", row.id),
            number=row.number,
            title=row.title,
            issued_on=row.issued_on,
            summary=row.summary,
        )


@strawberry.type
class ResolutionComment:
    row: strawberry.Private[models.ResolutionComment]
    id: strawberry.ID
    body: str
    created_at: dt.datetime

    @strawberry.field
    async def author(self, info: Info[Context, None]) -> Member:
        row = await _loaders(info, self.row.tenant_id).member_by_id.load(self.row.author_id)
        return Member.from_model(_referenced(row))

    @classmethod
    def from_model(cls, row: models.ResolutionComment) -> ResolutionComment:
        return cls(
            row=row,
            id=encode_id("ResolutionComment", row.id),
            body=row.body,
            created_at=row.created_at,
        )


@strawberry.type(description="A draft branch resolution open to members' comments.")
class DraftResolution:
    row: strawberry.Private[models.DraftResolution]
    id: strawberry.ID
    title: str
    body: str
    status: models.ResolutionStatus
    closes_at: dt.datetime

    @strawberry.field
    async def comments(self, info: Info[Context, None]) -> list[ResolutionComment]:
        rows = await _loaders(info, self.row.tenant_id).comments_by_resolution.load(self.row.id)
        return [ResolutionComment.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, row: models.DraftResolution) -> DraftResolution:
        return cls(
            row=row,
            id=encode_id("DraftResolution", row.id),
            title=row.title,
            body=row.body,
            status=models.ResolutionStatus(row.status),
            closes_at=row.closes_at,
        )


PageSize = Annotated[int, strawberry.argument(description="1 to 100.")]
