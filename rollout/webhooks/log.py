"""The delivery log: each event's delivery to each endpoint and every attempt, province-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


@dataclass(frozen=True, slots=True)
class DeliveryEntry:
    delivery: WebhookDelivery
    event: WebhookEvent
    url: str
    attempts: Sequence[WebhookAttempt]


async def deliveries(
    *,
    session: AsyncSession,
    province_id: str,
    endpoint_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[DeliveryEntry]:
    """The province's deliveries matching the filters, newest first, with their attempts."""
    stmt = (
        select(WebhookDelivery, WebhookEvent, WebhookEndpoint.url)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.province_id == province_id)
    )
    if endpoint_id is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status.value)
    stmt = stmt.order_by(WebhookDelivery.created_at.desc(), WebhookEvent.id.desc()).limit(limit)
    rows = (await session.execute(stmt)).all()
    attempts = await _attempts(session, [d.id for d, _, _ in rows])
    return [DeliveryEntry(d, e, url, attempts.get(d.id, [])) for d, e, url in rows]


async def _attempts(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    found: dict[uuid.UUID, list[WebhookAttempt]] = {}
    if not ids:
        return found
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt)
    )
    for row in rows:
        found.setdefault(row.delivery_id, []).append(row)
    return found
