"""``trackEvents``: the app's events through GraphQL, as ``POST /v1/events`` takes them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from adoption import service
from adoption.errors import AdoptionError
from schema.adoption.types import EventInput, TrackEventsPayload
from schema.context import Context
from schema.errors import PilotGraphError, UserError
from schema.fields import mutation
from schema.permissions import Permission, requires
from tenants.handbook.read_model import member_of


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
        member_id = await context.run(member_of, principal=context.principal_or_raise())
        if member_id is None:
            raise PilotGraphError("NOT_A_MEMBER", "Events are recorded for members of the tenant.")
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
            return TrackEventsPayload(errors=[UserError.from_domain(exc)])
        await context.commit()
        return TrackEventsPayload.from_domain(result)
