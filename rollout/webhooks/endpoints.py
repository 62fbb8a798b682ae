"""A province's webhook endpoints: add, list, rotate the secret, remove; each change audited.

The secret is generated here and answered once (on creation and on rotation); the audit never
holds it. The caller commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import audit
from rollout.errors import RolloutError, WebhookNotFound
from rollout.webhooks import urls
from rollout.webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint

MAX_ENDPOINTS = 20  # per province: each event is posted to every endpoint


class TooManyEndpoints(RolloutError):
    code = "INVALID_INPUT"


def _state(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The audited view of an endpoint: never its secret."""
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "events": list(endpoint.event_types),
        "active": endpoint.active,
    }


def new_secret() -> str:
    """256 random bits, URL-safe text."""
    return "whsec_" + secrets.token_urlsafe(32)


async def create(
    *,
    session: AsyncSession,
    province_id: str,
    url: str,
    events: Sequence[EventType],
    description: str,
    own: urls.OwnOrigins,
    actor: str,
    now: dt.datetime,
) -> WebhookEndpoint:
    """A new endpoint of the province receiving ``events`` (every kind when empty)."""
    checked = urls.check(url, own)
    if len(await list_for(session=session, province_id=province_id)) >= MAX_ENDPOINTS:
        raise TooManyEndpoints(f"A province has at most {MAX_ENDPOINTS} webhook endpoints.")
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        province_id=province_id,
        url=checked,
        secret=new_secret(),
        event_types=sorted({e.value for e in (events or list(EventType))}),
        description=description.strip(),
        active=True,
        created_by=actor,
        created_at=now,
    )
    session.add(endpoint)
    _audit(session, endpoint, "webhook.create", actor, now, None, _state(endpoint))
    await session.flush()
    return endpoint


async def list_for(*, session: AsyncSession, province_id: str) -> Sequence[WebhookEndpoint]:
    """The province's endpoints, oldest first."""
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.province_id == province_id)
    return (await session.scalars(stmt.order_by(WebhookEndpoint.created_at))).all()


async def get_or_raise(
    *, session: AsyncSession, province_id: str, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """The province's endpoint; another province's answers as one that does not exist."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.province_id != province_id:
        raise WebhookNotFound()
    return endpoint


async def rotate_secret(
    *,
    session: AsyncSession,
    province_id: str,
    endpoint_id: uuid.UUID,
    actor: str,
    now: dt.datetime,
) -> WebhookEndpoint:
    """A new secret for the endpoint; attempts from now on are signed with it."""
    endpoint = await get_or_raise(session=session, province_id=province_id, endpoint_id=endpoint_id)
    endpoint.secret = new_secret()
    _audit(session, endpoint, "webhook.rotate", actor, now, _state(endpoint), _state(endpoint))
    return endpoint


async def remove(
    *,
    session: AsyncSession,
    province_id: str,
    endpoint_id: uuid.UUID,
    actor: str,
    now: dt.datetime,
) -> WebhookEndpoint:
    """Remove the endpoint, its pending deliveries and their log."""
    endpoint = await get_or_raise(session=session, province_id=province_id, endpoint_id=endpoint_id)
    _audit(session, endpoint, "webhook.remove", actor, now, _state(endpoint), None)
    # explicit rather than ON DELETE CASCADE alone: SQLite enforces it only with foreign keys on
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await session.flush()
    return endpoint


def _audit(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    action: str,
    actor: str,
    now: dt.datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        at=now,
        before=before,
        after=after,
        province_id=endpoint.province_id,
    )
