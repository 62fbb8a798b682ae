"""``eraseMember``: a member's personal data erased on request (Decree 13/2023)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from adoption import erasure
from db.errors import DomainError
from schema.context import Context
from schema.errors import UserError
from schema.fields import mutation
from schema.permissions import Permission, requires
from schema.relay import decode_id, encode_id
from tenants.handbook.erasure import Erasure


@strawberry.input
class EraseMemberInput:
    member_id: strawberry.ID


@strawberry.type(description="An erasure as audited: who, when and how much; never what.")
class MemberErasure:
    member_id: strawberry.ID
    erased_at: dt.datetime
    actor: str
    events: int = strawberry.field(description="The member's events, kept anonymised.")
    devices: int = strawberry.field(description="The member's devices, kept anonymised.")

    @classmethod
    def from_domain(cls, done: Erasure) -> MemberErasure:
        return cls(
            member_id=encode_id("Member", done.member_id),
            erased_at=done.erased_at,
            actor=done.actor,
            events=done.events,
            devices=done.devices,
        )


@strawberry.type
class EraseMemberPayload:
    erasure: MemberErasure | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ErasureMutation:
    @mutation(
        extensions=requires(Permission.ERASE_MEMBER_DATA),
        description="Erase a member's personal data (name, birth year, position, religious "
        "belief, comment texts) and anonymise their events and devices; KPIs keep their counts. "
        "Once per member: again answers ALREADY_ERASED. Tenant admins and province admins.",
    )
    async def erase_member(
        self, info: Info[Context, None], input: EraseMemberInput
    ) -> EraseMemberPayload:
        ctx = info.context
        try:
            member_id = decode_id("Member", input.member_id, field="memberId")
            done = await ctx.command(
                erasure.erase_member,
                member_id=member_id,
                actor=ctx.principal_or_raise().subject,
                now=ctx.now,
            )
        except DomainError as exc:
            return EraseMemberPayload(errors=[UserError.from_domain(exc)])
        await ctx.commit()
        return EraseMemberPayload(erasure=MemberErasure.from_domain(done))
