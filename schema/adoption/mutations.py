"""``trackEvents``: the app's events through GraphQL, as ``POST /v1/events`` takes them."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from adoption import service
from adoption.errors import AdoptionError
from adoption.members import is_member
from schema.adoption.types import EventInput, TrackEventsPayload
from schema.context import Context
from schema.errors import PilotGraphError
from schema.fields import mutation
from schema.permissions import Permission, requires


@strawberry.type
class AdoptionMutation:
    @mutation(
        extensions=requires(Permission.TRACK_EVENTS),
        description="Record the signed-in member's app events; each answer says, per index, "
        "whether the event was accepted. Retries (same ids) are counted once.",
    )
    async def track_events(
        self, info: Info[Context, None], events: list[EventInput]
    ) -> TrackEventsPayload:
        context = info.context
        member_id = await context.run(_member_or_raise, subject=context.principal.subject)  # type: ignore[union-attr]
        assert context.tenant is not None  # requires(...) needs a tenant
        try:
            result = await context.command(
                service.ingest,
                timezone=context.tenant.timezone,
                member_id=member_id,
                events=[e.to_body() for e in events],
                now=context.now,
                install_key=context.install_key,
            )
        except AdoptionError as exc:
            raise PilotGraphError(exc.code, exc.message) from exc
        await context.commit()
        return TrackEventsPayload.from_domain(result)


async def _member_or_raise(*, session: object, tenant_id: str, subject: str) -> uuid.UUID:
    try:
        member_id = uuid.UUID(subject)
    except ValueError:
        member_id = None
    if member_id is None or not await is_member(
        session=session,  # type: ignore[arg-type]
        tenant_id=tenant_id,
        member_id=member_id,
    ):
        raise PilotGraphError("NOT_A_MEMBER", "Events are recorded for members of the tenant.")
    return member_id
