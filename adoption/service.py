"""Ingest: validate a batch, store each new event exactly once, update rollups — one transaction.

Ids are claimed first in ``adoption_event_ids`` (``INSERT … ON CONFLICT DO NOTHING RETURNING``
gives the ids not seen before); only those events are stored and counted. A retried batch
therefore stores and counts nothing twice, concurrently or not. On PostgreSQL this is one
set-based statement over arrays (:mod:`.bulk`); on SQLite, multi-row ``INSERT``s through
``executemany`` and :func:`.rollups.apply`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from adoption import bulk, rollups
from adoption.calendar import zone
from adoption.errors import TooManyEvents
from adoption.events import MAX_EVENTS, Refusal, ValidEvent, validate_all
from adoption.install_tokens import InstallTokenKey
from adoption.models import AdoptionEvent, AdoptionEventId
from db.dialect import execute_many, insert, is_postgres


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
    install_key: InstallTokenKey,
) -> IngestResult:
    """Validate and store a batch for ``tenant_id`` (member from the token, None if anonymous).

    Install tokens are checked against ``install_key``. The caller commits.
    """
    if len(events) > MAX_EVENTS:
        raise TooManyEvents(len(events), MAX_EVENTS)
    valid, refused = validate_all(
        events,
        now=now,
        anonymous=member_id is None,
        tenant_id=tenant_id,
        install_key=install_key,
    )
    valid = _first_of_each_id(valid)
    if is_postgres(session):
        fresh = await bulk.store(
            session,
            tenant_id=tenant_id,
            timezone=timezone,
            member_id=member_id,
            events=valid,
            now=now,
        )
    else:
        fresh = await _store_rows(session, tenant_id, timezone, member_id, valid, now)
    return IngestResult(_outcomes(refused, fresh, len(events)))


async def _store_rows(
    session: AsyncSession,
    tenant_id: str,
    timezone: str,
    member_id: uuid.UUID | None,
    valid: list[ValidEvent],
    now: dt.datetime,
) -> list[ValidEvent]:
    """Multi-row inserts through ``executemany``, then :func:`rollups.apply` (SQLite)."""
    by_id = {uuid.UUID(e.event_id): e for e in valid}
    new_ids = await _claim_ids(session, tenant_id, list(by_id))
    fresh = {key: event for key, event in by_id.items() if key in new_ids}
    if fresh:
        await _store(session, tenant_id, member_id, fresh, now)
        facts = [_Row(e.type.value, e.occurred_at, e.device_id, member_id) for e in fresh.values()]
        await rollups.apply(session, tenant_id=tenant_id, tz=zone(timezone), facts=facts)
    return list(fresh.values())


def _first_of_each_id(valid: list[ValidEvent]) -> list[ValidEvent]:
    """An id repeated inside one batch is one event: keep its first occurrence."""
    seen: set[str] = set()
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
    events: dict[uuid.UUID, ValidEvent],
    now: dt.datetime,
) -> None:
    rows = [
        {
            "tenant_id": tenant_id,
            "event_id": event_id,
            "occurred_at": e.occurred_at,
            "type": e.type.value,
            "member_id": member_id,
            "device_id": e.device_id,
            "install_token": e.install_token,
            "screen": e.screen,
            "received_at": now,
        }
        for event_id, e in events.items()
    ]
    # RETURNING makes SQLAlchemy send multi-row VALUES batches rather than one row at a time.
    statement = insert(session, AdoptionEvent).returning(AdoptionEvent.__table__.c.event_id)
    await execute_many(session, statement, rows)


def _outcomes(
    refused: list[Refusal], fresh: list[ValidEvent], total: int
) -> tuple[EventOutcome, ...]:
    """One outcome per index. An accepted event is a duplicate unless it was stored now: its id
    was seen before, or it repeats an id earlier in the batch (dropped by _first_of_each_id)."""
    stored = {e.index for e in fresh}
    by_index = {
        r.index: EventOutcome(r.index, False, code=r.code, message=r.message) for r in refused
    }
    return tuple(
        by_index.get(index) or EventOutcome(index, True, duplicate=index not in stored)
        for index in range(total)
    )
