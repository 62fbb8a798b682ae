"""Handbook queries: thin resolvers that parse, rely on a declared permission, call a service."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from rollout.registry import FlagKey
from schema.context import Context
from schema.errors import PilotGraphError
from schema.fields import field
from schema.handbook.types import (
    Branch,
    Document,
    Meeting,
    Member,
    MemberConnection,
    Notice,
    check_first,
    check_search,
)
from schema.permissions import Permission, requires
from schema.relay import InvalidId, decode_cursor, decode_id
from schema.rollout.gating import gated
from schema.tenants.access import check_slugs, readable_tenant_or_raise
from schema.tenants.types import Tenant
from tenants import service as tenants_service
from tenants.errors import NotAllowed
from tenants.handbook import models, service
from tenants.handbook.service import MemberFilter, When


def _invalid(exc: InvalidId) -> PilotGraphError:
    return PilotGraphError(exc.code, exc.message)


@strawberry.type
class HandbookQuery:
    @field(
        extensions=requires(Permission.READ_HANDBOOK) + gated(FlagKey.HANDBOOK),
        description="The signed-in member, if a member.",
    )
    async def me(self, info: Info[Context, None]) -> Member | None:
        actor = await info.context.actor()
        if actor.member_id is None:
            return None
        row = await info.context.loaders.member_by_id.load(actor.member_id)
        assert row is not None  # actor() found this very member through the same loader
        return Member.from_model(row)

    @field(
        extensions=requires(Permission.READ_HANDBOOK, needs_tenant=False),
        description="The tenant the request acts on, or one named by slug that the role covers.",
    )
    def tenant(self, info: Info[Context, None], slug: str | None = None) -> Tenant:
        return Tenant.from_info(readable_tenant_or_raise(info, slug))

    @field(
        extensions=requires(Permission.READ_HANDBOOK, needs_tenant=False),
        description="The tenants named by slug (at most 100), each one the role covers, in order.",
    )
    def tenants(self, info: Info[Context, None], slugs: list[str]) -> list[Tenant]:
        named = check_slugs(slugs)
        return [Tenant.from_info(readable_tenant_or_raise(info, slug)) for slug in named]

    @field(
        extensions=requires(Permission.READ_HANDBOOK) + gated(FlagKey.HANDBOOK),
        description="Branches the caller may read.",
    )
    async def branches(self, info: Info[Context, None]) -> list[Branch]:
        scope = (await info.context.actor()).readable_branch_ids
        rows = await info.context.run(tenants_service.list_branches, branch_ids=scope)
        return [Branch.from_model(row) for row in rows]

    @field(extensions=requires(Permission.READ_HANDBOOK) + gated(FlagKey.HANDBOOK))
    async def branch(self, info: Info[Context, None], id: strawberry.ID) -> Branch | None:
        try:
            branch_id = decode_id("Branch", id)
        except InvalidId as exc:
            raise _invalid(exc) from exc
        actor = await info.context.actor()
        if not actor.reads_branch(branch_id):
            return None
        row = await info.context.loaders.branch_by_id.load(branch_id)
        return Branch.from_model(row) if row else None

    @field(
        extensions=requires(Permission.READ_HANDBOOK) + gated(FlagKey.HANDBOOK),
        description="Members by name, a Relay connection.",
    )
    async def members(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        status: models.MemberStatus | None = None,
        search: str | None = None,
    ) -> MemberConnection:
        size = check_first(first)
        try:
            cursor = decode_cursor(after) if after else None
            branch = decode_id("Branch", branch_id, field="branchId") if branch_id else None
        except InvalidId as exc:
            raise _invalid(exc) from exc
        filters = MemberFilter(
            branch_id=branch, status=status.value if status else None, search=check_search(search)
        )
        try:
            page = await info.context.run(
                service.readable_members_page,
                actor=await info.context.actor(),
                filters=filters,
                first=size,
                after=cursor,
            )
        except NotAllowed as exc:
            raise PilotGraphError(exc.code, exc.message) from exc
        return MemberConnection.from_rows(list(page.rows), has_next=page.has_next, total=page.total)

    @field(
        extensions=requires(Permission.READ_HANDBOOK) + gated(FlagKey.MEETINGS),
        description="Upcoming (nearest first) or past.",
    )
    async def meetings(
        self,
        info: Info[Context, None],
        when: When = When.UPCOMING,
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

    @field(
        extensions=requires(Permission.READ_HANDBOOK) + gated(FlagKey.NOTICES),
        description="Latest first.",
    )
    async def notices(
        self,
        info: Info[Context, None],
        first: int = 20,
        kind: models.NoticeKind | None = None,
    ) -> list[Notice]:
        rows = await info.context.run(
            service.list_notices,
            actor=await info.context.actor(),
            first=check_first(first),
            kind=kind.value if kind else None,
        )
        return [Notice.from_model(row) for row in rows]

    @field(
        extensions=requires(Permission.READ_HANDBOOK) + gated(FlagKey.HANDBOOK),
        description="Newest first; search number or title.",
    )
    async def documents(
        self, info: Info[Context, None], first: int = 20, search: str | None = None
    ) -> list[Document]:
        rows = await info.context.run(
            service.list_documents, first=check_first(first), search=check_search(search)
        )
        return [Document.from_model(row) for row in rows]
