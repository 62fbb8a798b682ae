"""Delivering the outbox: fan each event out to its endpoints, then post, sign, retry, log.

At least once, never the same attempt twice. A worker claims due deliveries with ``FOR UPDATE
SKIP LOCKED`` (PostgreSQL; on SQLite it takes the database's write lock first), counts the
attempt and leases the delivery (``next_attempt_at`` = now + lease) in a short transaction that
commits *before* the POST, so no transaction stays open across the network and two replicas never
hold the same attempt. The outcome is written after the answer. A worker that dies mid-attempt
leaves its lease to run out; another replica then makes the next attempt, with the same
``Idempotency-Key`` (the event id) for the receiver to drop a duplicate.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.sessions import lock_sqlite_for_writing
from rollout.webhooks import signing
from rollout.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

NO_OUTCOME = "sent; no outcome recorded (the worker stopped or its lease ran out)"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: ``first_s``, doubling, at most ``cap_s``; ``max_attempts`` in all."""

    first_s: float = 30.0
    factor: float = 2.0
    cap_s: float = 3600.0
    max_attempts: int = 12
    timeout_s: float = 10.0  # one POST, connect to last byte

    @property
    def lease_s(self) -> float:
        """How long a claimed attempt is the claimer's: the POST's timeout and a margin."""
        return self.timeout_s * 3 + 5

    def delay_s(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed attempt."""
        return float(min(self.cap_s, self.first_s * self.factor ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class Claim:
    """One attempt, leased to this worker: everything the POST needs."""

    delivery_id: uuid.UUID
    attempt: int
    event_id: uuid.UUID
    event_type: str
    url: str
    secret: str
    body: bytes


def body_of(event: WebhookEvent) -> bytes:
    """The event's JSON body: the same bytes on every attempt."""
    text = json.dumps(event.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


async def has_work(*, session: AsyncSession, now: dt.datetime) -> bool:
    """Whether an event waits for its fan-out or a delivery is due: a plain read, so that idle
    polls take no lock (on SQLite, the lock is the whole database's)."""
    new_event = select(WebhookEvent.id).where(WebhookEvent.fanned_out_at.is_(None)).limit(1)
    due = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
        )
        .limit(1)
    )
    return (await session.scalar(new_event)) is not None or (await session.scalar(due)) is not None


async def fan_out(*, session: AsyncSession, now: dt.datetime, limit: int = 100) -> int:
    """Give each new event a delivery per endpoint of its province that takes its type and
    existed when it happened; the number of events fanned out. The caller commits."""
    await lock_sqlite_for_writing(session, WebhookEvent)
    events = (
        await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.fanned_out_at.is_(None))
            .order_by(WebhookEvent.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for event in events:
        for endpoint in await _receivers(session, event):
            session.add(
                WebhookDelivery(
                    id=uuid.uuid4(),
                    province_id=event.province_id,
                    event_id=event.id,
                    endpoint_id=endpoint.id,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    last_error="",
                )
            )
        event.fanned_out_at = now
    return len(events)


async def _receivers(session: AsyncSession, event: WebhookEvent) -> list[WebhookEndpoint]:
    rows = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.province_id == event.province_id,
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.created_at <= event.created_at,
        )
    )
    return [e for e in rows if event.type in e.event_types]


async def claim(
    *, session: AsyncSession, now: dt.datetime, worker: str, policy: RetryPolicy, limit: int = 20
) -> list[Claim]:
    """Lease up to ``limit`` due deliveries to ``worker``, each for its next attempt (logged as
    sent with no outcome yet). The caller commits before posting."""
    await lock_sqlite_for_writing(session, WebhookDelivery)
    due = (
        await session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    return [await _lease(session, d, now, worker, policy) for d in due]


async def _lease(
    session: AsyncSession, d: WebhookDelivery, now: dt.datetime, worker: str, policy: RetryPolicy
) -> Claim:
    event = await session.get(WebhookEvent, d.event_id)
    endpoint = await session.get(WebhookEndpoint, d.endpoint_id)
    assert event is not None
    assert endpoint is not None
    d.attempts += 1
    d.next_attempt_at = now + dt.timedelta(seconds=policy.lease_s)
    session.add(
        WebhookAttempt(
            delivery_id=d.id,
            attempt=d.attempts,
            province_id=d.province_id,
            at=now,
            worker=worker,
            status_code=None,
            error=NO_OUTCOME,
        )
    )
    return Claim(
        d.id, d.attempts, event.id, event.type, endpoint.url, endpoint.secret, body_of(event)
    )


async def record(
    *,
    session: AsyncSession,
    claim: Claim,
    status_code: int | None,
    error: str,
    now: dt.datetime,
    policy: RetryPolicy,
) -> None:
    """Write the attempt's outcome; schedule the next attempt, or give up after the last one.

    A delivery another worker has since claimed again (this lease ran out) keeps its newer state;
    only a success is still recorded on it. The caller commits.
    """
    await lock_sqlite_for_writing(session, WebhookDelivery)
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == claim.delivery_id)
    d = await session.scalar(stmt.with_for_update())
    attempt = await session.get(WebhookAttempt, (claim.delivery_id, claim.attempt))
    if d is None or attempt is None:  # the endpoint was removed meanwhile
        return
    ok = status_code is not None and 200 <= status_code < 300
    attempt.status_code, attempt.error = status_code, error
    if d.status != DeliveryStatus.PENDING.value or (d.attempts != claim.attempt and not ok):
        return
    d.last_status_code, d.last_error = status_code, error
    if ok:
        d.status, d.delivered_at = DeliveryStatus.DELIVERED.value, now
    elif d.attempts >= policy.max_attempts:
        d.status = DeliveryStatus.FAILED.value
    else:
        d.next_attempt_at = now + dt.timedelta(seconds=policy.delay_s(d.attempts))


def headers(claim: Claim, timestamp: int) -> dict[str, str]:
    """The headers of an attempt: the event, its idempotency key, the time and the signature."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "PilotGraph-Webhooks/1",
        signing.EVENT_HEADER: claim.event_type,
        signing.IDEMPOTENCY_HEADER: str(claim.event_id),
        signing.DELIVERY_HEADER: f"{claim.delivery_id}/{claim.attempt}",
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(claim.secret, timestamp, claim.body),
    }
