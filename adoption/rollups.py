"""Rollups kept incrementally, in the ingest's transaction, and rebuilt from events on demand.

Each fact is counted once because only newly accepted events reach :func:`apply`; distinct
counts rest on (tenant, day|month, member) rows inserted ``ON CONFLICT DO NOTHING … RETURNING``,
so a member already counted adds nothing. Rows are sorted by key so that concurrent batches
lock them in the same order (no deadlocks on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from adoption import expiry
from adoption.calendar import day_start, local_day, month_of, next_month, week_of
from adoption.models import (
    ACTIVE_TYPES,
    ROLLUP_TABLES,
    AdoptionActivation,
    AdoptionDaily,
    AdoptionEvent,
    AdoptionInstall,
    AdoptionMemberDay,
    AdoptionMemberMonth,
    AdoptionMonthly,
    EventType,
)
from db.dialect import execute_many, insert, is_postgres

REBUILD_CHUNK = 20_000
# SQLite: the pause between two months of a chunked rebuild, longer than the longest sleep of
# SQLite's busy handler (100 ms), so that a writer waiting for the lock takes it in between.
CHUNK_PAUSE_S = 0.15
MONTH_ATTEMPTS = 5  # a month of a chunked rebuild, retried when a concurrent ingest got in
REBUILT = tuple(m.__tablename__ for m in ROLLUP_TABLES)  # what a rebuild fills
# What loading events fills (activated member counts through the triggers on first logins).
FILLED = ("adoption_events", "adoption_event_ids", *REBUILT, "adoption_activated_counts")


class Fact(Protocol):
    """What a rollup needs from an event."""

    @property
    def type(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def device_id(self) -> str: ...
    @property
    def member_id(self) -> uuid.UUID | None: ...


@dataclass(frozen=True, slots=True)
class StoredFact:
    type: str
    occurred_at: dt.datetime
    device_id: str
    member_id: uuid.UUID | None


@dataclass
class _Tally:
    """What a set of facts adds: member-days, sessions per day, first login and install days."""

    days: set[tuple[dt.date, uuid.UUID]] = field(default_factory=set)
    sessions: Counter[dt.date] = field(default_factory=Counter)
    first_login: dict[uuid.UUID, dt.date] = field(default_factory=dict)
    first_install: dict[str, dt.date] = field(default_factory=dict)

    def add(self, fact: Fact, tz: ZoneInfo) -> None:
        day = local_day(fact.occurred_at, tz)
        if fact.type == EventType.SESSION_STARTED:
            self.sessions[day] += 1
        member = fact.member_id
        if member is not None and fact.type in ACTIVE_TYPES:
            self.days.add((day, member))
        if member is not None and fact.type == EventType.LOGIN:
            self.first_login[member] = min(day, self.first_login.get(member, day))
        if fact.type == EventType.APP_INSTALLED:
            device = fact.device_id
            self.first_install[device] = min(day, self.first_install.get(device, day))

    @property
    def months(self) -> set[tuple[dt.date, uuid.UUID]]:
        return {(month_of(d), m) for d, m in self.days}

    @property
    def monthly_sessions(self) -> Counter[dt.date]:
        monthly: Counter[dt.date] = Counter()
        for day, count in self.sessions.items():
            monthly[month_of(day)] += count
        return monthly


async def apply(
    session: AsyncSession, *, tenant_id: str, tz: ZoneInfo, facts: Sequence[Fact]
) -> None:
    """Add newly accepted events to every rollup of ``tenant_id``."""
    tally = _Tally()
    for fact in facts:
        tally.add(fact, tz)
    new_days = await _new_member_days(session, tenant_id, tally.days)
    new_months = await _new_member_months(session, tenant_id, tally.months)
    await _finish(session, tenant_id, tally, new_days, new_months)


async def _finish(
    session: AsyncSession,
    tenant_id: str,
    tally: _Tally,
    new_days: Counter[dt.date],
    new_months: Counter[dt.date],
) -> None:
    """The counters and first days, once the new member-days and member-months are known."""
    daily, monthly = AdoptionDaily, AdoptionMonthly
    await _add_counts(session, daily, daily.day, tenant_id, new_days, tally.sessions)
    await _add_counts(
        session, monthly, monthly.month, tenant_id, new_months, tally.monthly_sessions
    )
    await _keep_earliest(
        session, AdoptionActivation, "member_id", "activated_on", tenant_id, tally.first_login
    )
    await _keep_earliest(
        session, AdoptionInstall, "device_id", "installed_on", tenant_id, tally.first_install
    )


async def _new_member_days(
    session: AsyncSession, tenant_id: str, days: set[tuple[dt.date, uuid.UUID]]
) -> Counter[dt.date]:
    rows = [
        {"tenant_id": tenant_id, "day": d, "member_id": m, "week": week_of(d)}
        for d, m in sorted(days)
    ]
    returned = await _insert_new(session, AdoptionMemberDay, rows, AdoptionMemberDay.day)
    return Counter(returned)


async def _new_member_months(
    session: AsyncSession, tenant_id: str, months: set[tuple[dt.date, uuid.UUID]]
) -> Counter[dt.date]:
    rows = [{"tenant_id": tenant_id, "month": mo, "member_id": m} for mo, m in sorted(months)]
    returned = await _insert_new(session, AdoptionMemberMonth, rows, AdoptionMemberMonth.month)
    return Counter(returned)


async def _insert_new(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], key: Any
) -> list[Any]:
    """Insert rows absent so far; return ``key`` of each row actually inserted."""
    column = model.__table__.c[key.key]
    statement = insert(session, model).on_conflict_do_nothing().returning(column)
    result = await execute_many(session, statement, rows)
    return list(result.scalars()) if result is not None else []


async def _add_counts(
    session: AsyncSession,
    model: Any,
    key: Any,
    tenant_id: str,
    active: Counter[dt.date],
    sessions: Counter[dt.date],
) -> None:
    periods = sorted(set(active) | set(sessions))
    rows = [
        {"tenant_id": tenant_id, key.key: p, "active_members": active[p], "sessions": sessions[p]}
        for p in periods
    ]
    table = model.__table__
    statement = insert(session, model)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", key.key],
        set_={
            "active_members": table.c.active_members + statement.excluded.active_members,
            "sessions": table.c.sessions + statement.excluded.sessions,
        },
    )
    await execute_many(session, statement, rows)


async def _keep_earliest(
    session: AsyncSession,
    model: Any,
    key: str,
    day_column: str,
    tenant_id: str,
    earliest: dict[Any, dt.date],
) -> None:
    rows = [{"tenant_id": tenant_id, key: k, day_column: d} for k, d in sorted(earliest.items())]
    statement = insert(session, model)
    excluded = getattr(statement.excluded, day_column)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", key],
        set_={day_column: excluded},
        where=excluded < model.__table__.c[day_column],
    )
    await execute_many(session, statement, rows)


async def rebuild(
    session: AsyncSession,
    *,
    tenant_id: str,
    tz: ZoneInfo,
    since: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Recompute ``tenant_id``'s rollups from its events (from the month of ``since``), in the
    session's transaction.

    Returns the number of events read. Rollups before that month are kept as they are, and so
    are those of months whose events retention removed (:func:`adoption.expiry.rebuild_start`).
    Events are streamed in chunks of ``REBUILD_CHUNK`` (``progress`` hears each).
    """
    start = await expiry.rebuild_start(session=session, tz=tz, since=since)
    await _clear(session, tenant_id, start)
    return await _rebuild_range(session, tenant_id, tz, start, None, progress)


async def rebuild_in_chunks(
    sessions: Callable[[], AsyncSession],
    *,
    tenant_id: str,
    tz: ZoneInfo,
    since: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """:func:`rebuild`, one local month per transaction (each from a new session of
    ``sessions``, committed), oldest first; the result is the same.

    No transaction holds the database for the whole history: on SQLite, whose one write lock
    a rebuild takes, a concurrent ingest gets the lock between two months within its busy
    timeout. Each month is cleared and recomputed in one transaction, so an event ingested
    meanwhile is counted once: by the month's rebuild (ingested before it) or on top of it.
    First days move to the earliest month seen, as months come oldest first.
    """
    async with sessions() as session:
        start = await expiry.rebuild_start(session=session, tz=tz, since=since)
        months = await _event_months(session, tenant_id, tz, start)
        await _clear(session, tenant_id, start, months[0] if months else None)
        await session.commit()
    read = 0
    for month in months:
        read += await _rebuild_month(sessions, tenant_id, tz, month, progress)
    if months:
        async with sessions() as session:
            await _clear(session, tenant_id, next_month(months[-1]))
            await session.commit()
    return read


async def _rebuild_month(
    sessions: Callable[[], AsyncSession],
    tenant_id: str,
    tz: ZoneInfo,
    month: dt.date,
    progress: Callable[[int], None] | None,
) -> int:
    """Clear and recompute one month in one transaction, again if a concurrent ingest made it
    fail (PostgreSQL: a batch inserting the month's rows meanwhile, or a deadlock with it); the
    month is recomputed whole each time, so a retry counts nothing twice."""
    attempt = 1
    while True:
        heard: list[int] = []
        try:
            async with sessions() as session:
                await _hold_off_ingest(session)
                await _clear(session, tenant_id, month, next_month(month))
                end = next_month(month)
                read = await _rebuild_range(session, tenant_id, tz, month, end, heard.append)
                await session.commit()
                sqlite = not is_postgres(session)
            break
        except DBAPIError as error:
            if attempt == MONTH_ATTEMPTS or not _contended(error):
                raise
        await asyncio.sleep(0.05 * attempt)
        attempt += 1
    if progress is not None:
        for count in heard:
            progress(count)
    if sqlite:
        await asyncio.sleep(CHUNK_PAUSE_S)
    return read


async def _hold_off_ingest(session: AsyncSession) -> None:
    """PostgreSQL: make ingest wait for this month's transaction, as SQLite's write lock does.

    An ingest batch writes the rollups in its own order while the month clears and reloads
    them in another: the two would deadlock. ``SHARE ROW EXCLUSIVE`` on the rollups, taken
    before anything else, lets a batch already running finish first and makes the next wait
    (reads go on); the event read that follows then sees every batch committed before it.
    """
    if not is_postgres(session):
        return
    tables = ", ".join(sorted(REBUILT))
    await session.execute(text(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE"))


def _contended(error: DBAPIError) -> bool:
    """A unique violation or a deadlock (PostgreSQL), or a busy database (SQLite)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate in ("23505", "40P01", "40001") or "database is locked" in str(error.orig)


async def _event_months(
    session: AsyncSession, tenant_id: str, tz: ZoneInfo, start: dt.date | None
) -> list[dt.date]:
    """The local months from ``tenant_id``'s first event (from ``start`` on) to its last."""
    query = select(func.min(AdoptionEvent.occurred_at), func.max(AdoptionEvent.occurred_at))
    query = query.where(AdoptionEvent.tenant_id == tenant_id)
    if start is not None:
        query = query.where(AdoptionEvent.occurred_at >= day_start(start, tz))
    first, last = (await session.execute(query)).one()
    if first is None:
        return []
    months, month = [], month_of(local_day(first, tz))
    while month <= month_of(local_day(last, tz)):
        months.append(month)
        month = next_month(month)
    return months


async def _rebuild_range(
    session: AsyncSession,
    tenant_id: str,
    tz: ZoneInfo,
    start: dt.date | None,
    end: dt.date | None,
    progress: Callable[[int], None] | None,
) -> int:
    """Load the rollups of the events of the local months from ``start`` to before ``end``
    (cleared already)."""
    query = select(
        AdoptionEvent.type,
        AdoptionEvent.occurred_at,
        AdoptionEvent.device_id,
        AdoptionEvent.member_id,
    ).where(AdoptionEvent.tenant_id == tenant_id)
    if start is not None:
        query = query.where(AdoptionEvent.occurred_at >= day_start(start, tz))
    if end is not None:
        query = query.where(AdoptionEvent.occurred_at < day_start(end, tz))
    tally, read = _Tally(), 0
    async for chunk in (await session.stream(query)).partitions(REBUILD_CHUNK):
        for r in chunk:
            tally.add(StoredFact(r.type, r.occurred_at, r.device_id, r.member_id), tz)
        read += len(chunk)
        if progress:
            progress(len(chunk))
    await _load_tally(session, tenant_id, tally)
    return read


async def load(
    session: AsyncSession, *, tenant_id: str, tz: ZoneInfo, facts: Sequence[Fact]
) -> None:
    """Set-based :func:`apply` for rollups that hold nothing yet from these facts' periods
    (after :func:`_clear`): aggregate in memory, then plain bulk inserts."""
    tally = _Tally()
    for fact in facts:
        tally.add(fact, tz)
    await _load_tally(session, tenant_id, tally)


async def _load_tally(session: AsyncSession, tenant_id: str, tally: _Tally) -> None:
    months = tally.months
    await bulk_insert(
        session,
        AdoptionMemberDay,
        [
            {"tenant_id": tenant_id, "day": d, "member_id": m, "week": week_of(d)}
            for d, m in sorted(tally.days)
        ],
    )
    await bulk_insert(
        session,
        AdoptionMemberMonth,
        [{"tenant_id": tenant_id, "month": mo, "member_id": m} for mo, m in sorted(months)],
    )
    await _finish(
        session,
        tenant_id,
        tally,
        Counter(d for d, _ in tally.days),
        Counter(mo for mo, _ in months),
    )


async def bulk_insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core ``executemany`` (the ORM's bulk path is several times slower)."""
    if rows:
        connection = await session.connection()
        await connection.execute(model.__table__.insert(), rows)


async def _clear(
    session: AsyncSession, tenant_id: str, start: dt.date | None, end: dt.date | None = None
) -> None:
    # First days before the daily rows: their triggers take them off the daily counters, whose
    # rows from ``start`` (to before ``end``) are then deleted, so nothing else is touched.
    plan: Iterable[tuple[Any, Any]] = (
        (AdoptionActivation, AdoptionActivation.activated_on),
        (AdoptionInstall, AdoptionInstall.installed_on),
        (AdoptionDaily, AdoptionDaily.day),
        (AdoptionMemberDay, AdoptionMemberDay.day),
        (AdoptionMonthly, AdoptionMonthly.month),
        (AdoptionMemberMonth, AdoptionMemberMonth.month),
    )
    for model, column in plan:
        statement = delete(model).where(model.tenant_id == tenant_id)
        if start is not None:
            statement = statement.where(column >= start)
        if end is not None:
            statement = statement.where(column < end)
        await session.execute(statement)


async def count_events(session: AsyncSession, *, tenant_id: str, since: dt.datetime | None) -> int:
    """How many events :func:`rebuild` would read (for its progress bar)."""
    query = select(func.count()).select_from(AdoptionEvent)
    query = query.where(AdoptionEvent.tenant_id == tenant_id)
    if since is not None:
        query = query.where(AdoptionEvent.occurred_at >= since)
    return int(await session.scalar(query) or 0)
