"""Handbook queries: thin resolvers that parse, rely on a declared permission, call a service."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.errors import PilotGraphError
from schema.handbook.types import (
    Branch,
    Document,
    Meeting,
    MeetingWhen,
    Member,
    MemberConnection,
    MemberStatus,
    Notice,
    NoticeKind,
    check_first,
)
from schema.permissions import Permission, requires
from schema.relay import InvalidId, decode_cursor, decode_id
from schema.tenants.types import Tenant
from tenants import service as tenants_service
from tenants.handbook import service
from tenants.handbook.service import MemberFilter, When


def _invalid(exc: InvalidId) -> PilotGraphError:
    return PilotGraphError(exc.code, exc.message)


@strawberry.type
class HandbookQuery:
    @strawberry.field(
        extensions=requires(Permission.READ_HANDBOOK),
        description="The signed-in member, if a member.",
    )
    async def me(self, info: Info) -> Member | None:
        actor = await info.context.actor()
        if actor.member_id is None:
            return None
        return Member.from_model(await info.context.loaders.member_by_id.load(actor.member_id))

    @strawberry.field(
        extensions=requires(Permission.READ_HANDBOOK), description="The tenant the request acts on."
    )
    def tenant(self, info: Info) -> Tenant:
        return Tenant.from_info(info.context.tenant)

    @strawberry.field(
        extensions=requires(Permission.READ_HANDBOOK), description="Branches the caller may read."
    )
    async def branches(self, info: Info) -> list[Branch]:
        actor = await info.context.actor()
        scope = None if actor.sees_whole_tenant else [actor.branch_id] if actor.branch_id else []
        rows = await info.context.run(tenants_service.list_branches, branch_ids=scope)
        return [Branch.from_model(row) for row in rows]

    @strawberry.field(extensions=requires(Permission.READ_HANDBOOK))
    async def branch(self, info: Info, id: strawberry.ID) -> Branch | None:
        try:
            branch_id = decode_id("Branch", id)
        except InvalidId as exc:
            raise _invalid(exc) from exc
        actor = await info.context.actor()
        if not actor.reads_branch(branch_id):
            return None
        row = await info.context.loaders.branch_by_id.load(branch_id)
        return Branch.from_model(row) if row else None

    @strawberry.field(
        extensions=requires(Permission.READ_HANDBOOK),
        description="Members by name, a Relay connection.",
    )
    async def members(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        status: MemberStatus | None = None,  # type: ignore[valid-type]
        search: str | None = None,
    ) -> MemberConnection:
        size = check_first(first)
        try:
            cursor = decode_cursor(after) if after else None
            branch = decode_id("Branch", branch_id, field="branchId") if branch_id else None
        except InvalidId as exc:
            raise _invalid(exc) from exc
        actor = await info.context.actor()
        if not actor.sees_whole_tenant:
            if branch is not None and branch != actor.branch_id:
                raise PilotGraphError("FORBIDDEN", "You may only list your own branch's members.")
            branch = actor.branch_id
            if branch is None:
                return MemberConnection.from_rows([], has_next=False, total=0)
        filters = MemberFilter(
            branch_id=branch, status=status.value if status else None, search=search
        )
        page = await info.context.run(
            service.members_page, filters=filters, first=size, after=cursor
        )
        return MemberConnection.from_rows(list(page.rows), has_next=page.has_next, total=page.total)

    @strawberry.field(
        extensions=requires(Permission.READ_HANDBOOK),
        description="Upcoming (nearest first) or past.",
    )
    async def meetings(
        self,
        info: Info,
        when: MeetingWhen = When.UPCOMING,  # type: ignore[valid-type]
        branch_id: strawberry.ID | None = None,
        first: int = 20,
    ) -> list[Meeting]:
        size = check_first(first)
        try:
            branch = decode_id("Branch", branch_id, field="branchId") if branch_id else None
        except InvalidId as exc:
            raise _invalid(exc) from exc
        rows = await info.context.run(
            service.list_meetings,
            actor=await info.context.actor(),
            when=When(when),
            now=info.context.now,
            first=size,
            branch_id=branch,
        )
        return [Meeting.from_model(row) for row in rows]

    @strawberry.field(extensions=requires(Permission.READ_HANDBOOK), description="Latest first.")
    async def notices(
        self,
        info: Info,
        first: int = 20,
        kind: NoticeKind | None = None,  # type: ignore[valid-type]
    ) -> list[Notice]:
        rows = await info.context.run(
            service.list_notices,
            actor=await info.context.actor(),
            first=check_first(first),
            kind=kind.value if kind else None,
        )
        return [Notice.from_model(row) for row in rows]

    @strawberry.field(
        extensions=requires(Permission.READ_HANDBOOK),
        description="Newest first; search number or title.",
    )
    async def documents(
        self, info: Info, first: int = 20, search: str | None = None
    ) -> list[Document]:
        rows = await info.context.run(
            service.list_documents, first=check_first(first), search=search
        )
        return [Document.from_model(row) for row in rows]
