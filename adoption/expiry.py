"""Retention of raw events: events older than the configured age are removed, whole months at a
time, while the rollups (and so every KPI of past months) stay.

The cutoff is the start of a UTC month: with ``months = 13`` on 5 December 2026 it is
1 November 2025, so every removed event is more than 13 months old and the oldest kept is at
most 14. PostgreSQL drops the monthly partitions of ``adoption_events`` that end at or before the
cutoff (``adoption_drop_partitions``, migration 0009: instant, no dead rows, no vacuum); SQLite
deletes the same events in batches of ``SQLITE_BATCH``, one transaction each, so ingest gets the
write lock in between. The exactly-once ids (``adoption_event_ids``) stay: they are random
client UUIDs, and an event that old is refused by ingest's 90-day window anyway.

Before anything is removed the horizon (``adoption_event_horizon``) moves to the cutoff, in the
same transaction on PostgreSQL and in its own first one on SQLite: a rollup rebuild never goes
back before it (:func:`rebuild_start`), so a removal stopped half-way loses no KPI, and running
again finishes it. Replicas running it at once: the first takes a transaction-level advisory lock
and the others skip (PostgreSQL); on SQLite the batches of two runs simply interleave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from adoption.calendar import add_months, day_start, local_day, month_of, next_month
from adoption.errors import InvalidRetention
from adoption.models import AdoptionEvent, AdoptionEventHorizon
from db.dialect import insert, is_postgres
from db.sessions import switch_tenant

DEFAULT_MONTHS = 13
MIN_MONTHS = 4  # above ingest's 90-day window: nothing removed can still arrive
MAX_MONTHS = 120
SQLITE_BATCH = 5_000
# pg_try_advisory_xact_lock key: "pilotgraph event retention" (any constant no one else takes).
LOCK_KEY = 0x5047_5245_5445_4E54


@dataclass(frozen=True, slots=True)
class Expiry:
    """What a retention run found before the cutoff, and whether it removed it."""

    cutoff: dt.datetime
    dry_run: bool
    events: dict[str, int] = field(default_factory=dict)  # per tenant, only those with some
    partitions: tuple[str, ...] = ()  # PostgreSQL's monthly partitions dropped (or to drop)
    skipped: bool = False  # another replica was removing at the same time

    @property
    def total(self) -> int:
        return sum(self.events.values())


def cutoff(*, now: dt.datetime, months: int) -> dt.datetime:
    """The UTC month start before which events are older than ``months`` months; a ``months``
    outside [MIN_MONTHS, MAX_MONTHS] (or not an int) raises :class:`InvalidRetention`."""
    if isinstance(months, bool) or not isinstance(months, int):
        raise InvalidRetention(months, MIN_MONTHS, MAX_MONTHS)
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise InvalidRetention(months, MIN_MONTHS, MAX_MONTHS)
    first = add_months(month_of(now.astimezone(dt.UTC).date()), -months)
    return dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)


async def expire(
    *,
    sessions: Callable[[], AsyncSession],
    tenant_ids: Sequence[str],
    now: dt.datetime,
    months: int,
    dry_run: bool = False,
) -> Expiry:
    """Remove (or with ``dry_run`` only count) every tenant's events before :func:`cutoff`."""
    before = cutoff(now=now, months=months)
    async with sessions() as session:
        if is_postgres(session):
            return await _expire_postgres(session, tenant_ids, before, now, dry_run)
        counts = await count_before(session=session, tenant_ids=tenant_ids, before=before)
        if not dry_run and counts:
            await _move_horizon(session, before, now)
            await session.commit()
    if not dry_run and counts:
        await _delete_in_batches(sessions, before)
    return Expiry(before, dry_run, counts)


async def _expire_postgres(
    session: AsyncSession,
    tenant_ids: Sequence[str],
    before: dt.datetime,
    now: dt.datetime,
    dry_run: bool,
) -> Expiry:
    """One transaction: the lock, the counts, the horizon and the drops commit together."""
    locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    if not locked:
        return Expiry(before, dry_run, skipped=True)
    counts = await count_before(session=session, tenant_ids=tenant_ids, before=before)
    dropped = await session.execute(
        text("SELECT partition FROM adoption_drop_partitions(:cutoff, :dry_run)"),
        {"cutoff": before, "dry_run": dry_run},
    )
    partitions = tuple(str(name) for (name,) in dropped)
    if not dry_run and partitions:
        await _move_horizon(session, before, now)
    await session.commit()
    return Expiry(before, dry_run, counts, partitions)


async def count_before(
    *, session: AsyncSession, tenant_ids: Sequence[str], before: dt.datetime
) -> dict[str, int]:
    """Per tenant (row-level security: each read as that tenant), its events before ``before``;
    tenants with none are left out. The session acts for no tenant afterwards."""
    counts: dict[str, int] = {}
    query = select(func.count()).select_from(AdoptionEvent)
    for tenant_id in tenant_ids:
        await switch_tenant(session, tenant_id)
        found = await session.scalar(
            query.where(AdoptionEvent.tenant_id == tenant_id, AdoptionEvent.occurred_at < before)
        )
        if found:
            counts[tenant_id] = int(found)
    await switch_tenant(session, None)
    return counts


async def _move_horizon(session: AsyncSession, before: dt.datetime, now: dt.datetime) -> None:
    """Record that events before ``before`` are (being) removed; the horizon only moves on."""
    current = await horizon(session=session)
    if current is not None and current >= before:
        return
    statement = insert(session, AdoptionEventHorizon).values(
        id=1, removed_before=before, removed_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"], set_={"removed_before": before, "removed_at": now}
        )
    )


async def _delete_in_batches(sessions: Callable[[], AsyncSession], before: dt.datetime) -> None:
    """SQLite: delete the events before ``before``, ``SQLITE_BATCH`` rows per transaction."""
    rows: Select[tuple[Any]] = select(literal_column("rowid")).where(
        AdoptionEvent.occurred_at < before
    )
    while True:
        async with sessions() as session:
            result = await session.execute(
                delete(AdoptionEvent)
                .where(literal_column("rowid").in_(rows.limit(SQLITE_BATCH).scalar_subquery()))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        if getattr(result, "rowcount", 0) < SQLITE_BATCH:
            return


async def horizon(*, session: AsyncSession) -> dt.datetime | None:
    """The instant before which raw events have been removed, if retention ever ran."""
    return await session.scalar(
        select(AdoptionEventHorizon.removed_before).where(AdoptionEventHorizon.id == 1)
    )


async def rebuild_start(
    *, session: AsyncSession, tz: ZoneInfo, since: dt.date | None
) -> dt.date | None:
    """The local month a rollup rebuild may start from: ``since``'s month, but never one that
    began before the horizon (its events are gone, in part or whole; its rollups stay)."""
    start = month_of(since) if since else None
    removed = await horizon(session=session)
    if removed is None:
        return start
    first_whole = month_of(local_day(removed, tz))
    if day_start(first_whole, tz) < removed:
        first_whole = next_month(first_whole)
    return first_whole if start is None or start < first_whole else start
