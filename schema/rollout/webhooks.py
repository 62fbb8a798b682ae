"""Webhook endpoints (province admins) and the delivery log (province admins and auditors)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from rollout.errors import RolloutError, WebhookNotFound
from rollout.webhooks import endpoints, log
from rollout.webhooks.log import DeliveryEntry
from rollout.webhooks.models import DeliveryStatus, EventType, WebhookAttempt, WebhookEndpoint
from schema.context import Context
from schema.errors import UserError, bad_input
from schema.fields import field, mutation
from schema.permissions import Permission, requires
from schema.relay import canonical_uuid
from schema.rollout.access import rollout_province

ADMIN = requires(Permission.MANAGE_ROLLOUT, needs_tenant=False)
READER = requires(Permission.READ_ROLLOUT, needs_tenant=False)
MAX_DELIVERIES = 500

strawberry.enum(EventType, name="WebhookEventType")
strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(description="Where a province's rollout events are posted (never its secret).")
class WebhookEndpointType:
    id: strawberry.ID
    url: str
    events: list[EventType]
    description: str
    created_by: str
    created_at: dt.datetime

    @classmethod
    def from_model(cls, e: WebhookEndpoint) -> WebhookEndpointType:
        return cls(
            id=strawberry.ID(str(e.id)),
            url=e.url,
            events=[EventType(t) for t in e.event_types],
            description=e.description,
            created_by=e.created_by,
            created_at=e.created_at,
        )


@strawberry.type(name="WebhookAttempt", description="One POST and what came back.")
class WebhookAttemptType:
    attempt: int
    at: dt.datetime
    worker: str
    status_code: int | None
    error: str

    @classmethod
    def from_model(cls, a: WebhookAttempt) -> WebhookAttemptType:
        return cls(
            attempt=a.attempt, at=a.at, worker=a.worker, status_code=a.status_code, error=a.error
        )


@strawberry.type(description="An event on its way to one endpoint, with every attempt.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The Idempotency-Key sent.")
    event_type: EventType
    flag: str | None
    endpoint_id: strawberry.ID
    url: str
    status: DeliveryStatus
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_status_code: int | None
    last_error: str
    attempts: list[WebhookAttemptType]

    @classmethod
    def from_entry(cls, entry: DeliveryEntry) -> WebhookDelivery:
        d, event = entry.delivery, entry.event
        return cls(
            id=strawberry.ID(str(d.id)),
            event_id=strawberry.ID(str(event.id)),
            event_type=EventType(event.type),
            flag=event.flag_key,
            endpoint_id=strawberry.ID(str(d.endpoint_id)),
            url=entry.url,
            status=DeliveryStatus(d.status),
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
            delivered_at=d.delivered_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            attempts=[WebhookAttemptType.from_model(a) for a in entry.attempts],
        )


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpointType | None = None
    secret: str | None = strawberry.field(
        default=None, description="The signing secret: shown only here, keep it."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _endpoint_id(value: strawberry.ID) -> uuid.UUID:
    parsed = canonical_uuid(str(value))
    if parsed is None:
        raise WebhookNotFound()
    return parsed


def _actor(ctx: Context) -> str:
    assert ctx.principal is not None  # the permission ran first
    return ctx.principal.subject


async def _write(
    ctx: Context,
    fn: Callable[..., Awaitable[WebhookEndpoint]],
    with_secret: bool,
    **kwargs: Any,
) -> WebhookEndpointPayload:
    """Run an endpoint change in the request's province and commit; refusals become errors."""
    try:
        row = await ctx.run_province(
            fn, province_id=rollout_province(ctx), actor=_actor(ctx), now=ctx.now, **kwargs
        )
        await ctx.commit()
    except RolloutError as exc:
        await ctx.rollback()
        return WebhookEndpointPayload(errors=[UserError.from_domain(exc)])
    secret = row.secret if with_secret else None
    return WebhookEndpointPayload(endpoint=WebhookEndpointType.from_model(row), secret=secret)


@strawberry.type
class WebhookMutation:
    @mutation(
        extensions=ADMIN,
        description="Post your province's rollout events (all kinds when ``events`` is empty) "
        "to ``url``, signed with the secret answered once.",
    )
    async def create_webhook_endpoint(
        self,
        info: Info[Context, None],
        url: str,
        events: list[EventType] | None = None,
        description: str = "",
    ) -> WebhookEndpointPayload:
        ctx = info.context
        return await _write(
            ctx,
            endpoints.create,
            True,
            url=url,
            events=events or [],
            description=description,
            own=ctx.webhook_origins,
        )

    @mutation(extensions=ADMIN, description="A new signing secret, answered once.")
    async def rotate_webhook_secret(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> WebhookEndpointPayload:
        try:
            endpoint_id = _endpoint_id(id)
        except RolloutError as exc:
            return WebhookEndpointPayload(errors=[UserError.from_domain(exc)])
        return await _write(info.context, endpoints.rotate_secret, True, endpoint_id=endpoint_id)

    @mutation(extensions=ADMIN, description="Stop posting to an endpoint; its log goes with it.")
    async def remove_webhook_endpoint(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> WebhookEndpointPayload:
        try:
            endpoint_id = _endpoint_id(id)
        except RolloutError as exc:
            return WebhookEndpointPayload(errors=[UserError.from_domain(exc)])
        return await _write(info.context, endpoints.remove, False, endpoint_id=endpoint_id)


@strawberry.type
class WebhookQuery:
    @field(extensions=READER, description="Your province's webhook endpoints, oldest first.")
    async def webhook_endpoints(self, info: Info[Context, None]) -> list[WebhookEndpointType]:
        ctx = info.context
        rows = await ctx.run_province(endpoints.list_for, province_id=rollout_province(ctx))
        return [WebhookEndpointType.from_model(r) for r in rows]

    @field(
        extensions=READER,
        description="Your province's webhook deliveries, newest first, with every attempt.",
    )
    async def webhook_deliveries(
        self,
        info: Info[Context, None],
        endpoint: strawberry.ID | None = None,
        status: DeliveryStatus | None = None,
        first: int = 100,
    ) -> list[WebhookDelivery]:
        if not 0 < first <= MAX_DELIVERIES:
            raise bad_input(f"first must be 1 to {MAX_DELIVERIES}.")
        endpoint_id = None if endpoint is None else canonical_uuid(str(endpoint))
        if endpoint is not None and endpoint_id is None:
            return []  # a malformed id answers as an endpoint with no deliveries
        ctx = info.context
        rows = await ctx.run_province(
            log.deliveries,
            province_id=rollout_province(ctx),
            endpoint_id=endpoint_id,
            status=status,
            limit=first,
        )
        return [WebhookDelivery.from_entry(r) for r in rows]
