"""Ingest: validate a batch, store each new event exactly once, update rollups — one transaction.

Events are written with multi-row ``INSERT … ON CONFLICT DO NOTHING``: first their ids into
``adoption_event_ids`` (which returns the ids not seen before), then those events, then the
rollups. A retried batch therefore stores and counts nothing twice, concurrently or not.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rollout.adoption import rollups
from rollout.adoption.calendar import zone
from rollout.adoption.dialect import execute_many, insert
from rollout.adoption.errors import TooManyEvents
from rollout.adoption.events import MAX_EVENTS, Refusal, ValidEvent, validate_all
from rollout.adoption.models import AdoptionEvent, AdoptionEventId
from rollout.adoption.partitions import ensure_partitions


@dataclass(frozen=True, slots=True)
class EventOutcome:
    index: int
    accepted: bool
    duplicate: bool = False  # accepted before (a retry): stored and counted once
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcomes: tuple[EventOutcome, ...]

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes if o.accepted)

    @property
    def refused(self) -> int:
        return sum(1 for o in self.outcomes if not o.accepted)

    @property
    def stored(self) -> int:
        return sum(1 for o in self.outcomes if o.accepted and not o.duplicate)


@dataclass(frozen=True, slots=True)
class _Row:
    type: str
    occurred_at: dt.datetime
    device_id: str
    member_id: uuid.UUID | None


async def ingest(
    *,
    session: AsyncSession,
    tenant_id: str,
    timezone: str,
    member_id: uuid.UUID | None,
    events: Sequence[Any],
    now: dt.datetime,
) -> IngestResult:
    """Validate and store a batch for ``tenant_id`` (member from the token, None if anonymous).

    The caller commits.
    """
    if len(events) > MAX_EVENTS:
        raise TooManyEvents(len(events), MAX_EVENTS)
    valid, refused = validate_all(events, now=now, anonymous=member_id is None)
    valid = _first_of_each_id(valid)
    new_ids = await _claim_ids(session, tenant_id, [e.event_id for e in valid])
    fresh = [e for e in valid if e.event_id in new_ids]
    if fresh:
        await ensure_partitions(
            session,
            first=min(e.occurred_at for e in fresh),
            last=max(e.occurred_at for e in fresh),
        )
        await _store(session, tenant_id, member_id, fresh, now)
        facts = [_Row(e.type.value, e.occurred_at, e.device_id, member_id) for e in fresh]
        await rollups.apply(session, tenant_id=tenant_id, tz=zone(timezone), facts=facts)
    return IngestResult(_outcomes(valid, refused, new_ids, len(events)))


def _first_of_each_id(valid: list[ValidEvent]) -> list[ValidEvent]:
    """An id repeated inside one batch is one event: keep its first occurrence."""
    seen: set[uuid.UUID] = set()
    kept = []
    for event in valid:
        if event.event_id not in seen:
            seen.add(event.event_id)
            kept.append(event)
    return kept


async def _claim_ids(session: AsyncSession, tenant_id: str, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Record ids never seen for this tenant; return those (the others are retries)."""
    rows = [{"tenant_id": tenant_id, "event_id": i} for i in sorted(ids)]
    table = AdoptionEventId.__table__
    statement = insert(session, AdoptionEventId).on_conflict_do_nothing()
    result = await execute_many(session, statement.returning(table.c.event_id), rows)
    return set(result.scalars()) if result is not None else set()


async def _store(
    session: AsyncSession,
    tenant_id: str,
    member_id: uuid.UUID | None,
    events: list[ValidEvent],
    now: dt.datetime,
) -> None:
    rows = [
        {
            "tenant_id": tenant_id,
            "event_id": e.event_id,
            "occurred_at": e.occurred_at,
            "type": e.type.value,
            "member_id": member_id,
            "device_id": e.device_id,
            "install_token": e.install_token,
            "screen": e.screen,
            "received_at": now,
        }
        for e in events
    ]
    # RETURNING makes SQLAlchemy send multi-row VALUES batches rather than one row at a time.
    statement = insert(session, AdoptionEvent).returning(AdoptionEvent.__table__.c.event_id)
    await execute_many(session, statement, rows)


def _outcomes(
    valid: list[ValidEvent], refused: list[Refusal], new_ids: set[uuid.UUID], total: int
) -> tuple[EventOutcome, ...]:
    by_index: dict[int, EventOutcome] = {
        r.index: EventOutcome(r.index, False, code=r.code, message=r.message) for r in refused
    }
    fresh_index = {e.event_id: e.index for e in valid if e.event_id in new_ids}
    for event in valid:
        by_index[event.index] = EventOutcome(
            event.index, True, duplicate=fresh_index.get(event.event_id) != event.index
        )
    # Later repeats of an id within the batch were dropped by _first_of_each_id: duplicates.
    for index in range(total):
        by_index.setdefault(index, EventOutcome(index, True, duplicate=True))
    return tuple(by_index[i] for i in range(total))
