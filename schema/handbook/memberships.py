"""Members over time: record a member leaving, rejoining, or transferring to another tenant of
the province. Members, activation and retention at a past date read this history
(docs/KPIS.md), so a move never rewrites an earlier day's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from db.errors import DomainError
from schema.context import Context
from schema.errors import UserError
from schema.fields import mutation
from schema.permissions import Permission, requires
from schema.relay import decode_id
from tenants.handbook import memberships


@strawberry.input
class MemberMoveInput:
    member_id: strawberry.ID
    on: dt.date = strawberry.field(
        description="The first day the move holds, in the province's calendar; not in the future."
    )


@strawberry.input
class TransferMemberInput:
    member_id: strawberry.ID
    to_tenant: str = strawberry.field(description="Another tenant of the same province (slug).")
    branch_id: strawberry.ID = strawberry.field(description="The branch there the member joins.")
    on: dt.date = strawberry.field(
        description="The first day in the new tenant; the last day here is the day before."
    )


@strawberry.type
class MemberMovePayload:
    member_id: strawberry.ID | None = None
    on: dt.date | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _record(
    ctx: Context, member: strawberry.ID, on: dt.date, move: Any, **extra: Any
) -> MemberMovePayload:
    """Run one move in the request's transaction: all of it, or (on a refusal) nothing."""
    try:
        member_id = decode_id("Member", member, field="memberId")
        today = await memberships.province_today(ctx.session, ctx.tenant_id, ctx.now)
        await ctx.command(move, member_id=member_id, on=on, today=today, **extra)
    except DomainError as exc:
        return MemberMovePayload(errors=[UserError.from_domain(exc)])
    await ctx.commit()
    return MemberMovePayload(member_id=member, on=on)


@strawberry.type
class MembershipMutation:
    @mutation(
        extensions=requires(Permission.RECORD_MEMBERSHIP),
        description="Record that a member left the tenant: `on` is their first day out. Past "
        "figures keep counting them up to the day before. Tenant admins and province admins.",
    )
    async def record_member_left(
        self, info: Info[Context, None], input: MemberMoveInput
    ) -> MemberMovePayload:
        return await _record(info.context, input.member_id, input.on, memberships.leave)

    @mutation(
        extensions=requires(Permission.RECORD_MEMBERSHIP),
        description="Record that a member who left (or transferred out) is a member again "
        "from `on`. Tenant admins and province admins.",
    )
    async def record_member_rejoined(
        self, info: Info[Context, None], input: MemberMoveInput
    ) -> MemberMovePayload:
        return await _record(info.context, input.member_id, input.on, memberships.rejoin)

    @mutation(
        extensions=requires(Permission.RECORD_MEMBERSHIP),
        description="Transfer a member to a branch of another tenant of the same province from "
        "`on`, in one transaction. Tenant admins of the sending tenant and province admins.",
    )
    async def transfer_member(
        self, info: Info[Context, None], input: TransferMemberInput
    ) -> MemberMovePayload:
        ctx = info.context
        try:
            branch_id = decode_id("Branch", input.branch_id, field="branchId")
        except DomainError as exc:
            return MemberMovePayload(errors=[UserError.from_domain(exc)])
        return await _record(
            ctx,
            input.member_id,
            input.on,
            memberships.transfer,
            to_tenant_id=input.to_tenant,
            branch_id=branch_id,
        )
