"""Simulated app events for the demo province, deterministic from a seed.

Yen Mo's pilot runs from ten months ago to today: about 92% of its members install the app and
log in during the first months, then about 98% of them come back every month, logging in and
starting two to six sessions. Wave-1 districts (Hoa Lu, Ninh Binh city, Kim Son) started two
months ago, their handbook ramped 25% → 50% → 100% of members (``Pilot.access``, the same days as
the demo plan's steps in ``rollout.demo``): a member activates only after the app reached them, so
they are still climbing. Sessions fall on days spread over each whole month; the month a member
activates holds only the days from then, the current month only the days up to today (the
province's local date), none later than ``now``. Tenants of later waves have no events. Only
events are simulated: every figure shown afterwards is computed from them by the rollups and
KPIs, as for real events.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adoption import rollups
from adoption.calendar import add_months, month_of, next_month, zone
from adoption.models import AdoptionEvent, AdoptionEventId, EventType
from adoption.partitions import ensure_partitions
from db.sessions import scope_session
from tenants.handbook.read_model import member_ids

DEMO_SEED = 20240521
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class Pilot:
    tenant_id: str
    months_ago: int  # the pilot starts on the first day of that month
    activation: float  # share of members who ever install and log in
    ramp_months: int  # activations spread over these first months
    monthly_return: float  # share of activated members active in each later month
    sessions: tuple[int, int]  # sessions per active member per month (inclusive range)
    # (days after the start, share of members the handbook reaches from then on)
    access: tuple[tuple[int, float], ...] = ((0, 1.0),)


WAVE_1_ACCESS = ((0, 0.25), (21, 0.5), (42, 1.0))  # the demo plan's wave-1 ramp, 25/50/100%
PILOTS = (
    Pilot("yen-mo", 10, 0.92, 4, 0.978, (2, 6)),
    Pilot("hoa-lu", 2, 0.55, 3, 0.80, (1, 4), WAVE_1_ACCESS),
    Pilot("ninh-binh-city", 2, 0.40, 3, 0.75, (1, 4), WAVE_1_ACCESS),
    Pilot("kim-son", 2, 0.35, 3, 0.75, (1, 3), WAVE_1_ACCESS),
)


async def simulate(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    today: dt.date,
    timezone: str = "Asia/Ho_Chi_Minh",
    seed: int = DEMO_SEED,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Write each pilot's events up to ``today`` (a local date; none after ``now`` when given),
    skipping tenants that have events, and build their rollups."""
    written: dict[str, int] = {}
    for pilot in PILOTS:
        async with scope_session(sessionmaker(), pilot.tenant_id) as session:
            written[pilot.tenant_id] = await _simulate_tenant(
                session, pilot, _Span(today, zone(timezone), now), seed
            )
            await session.commit()
        if progress:
            progress(pilot.tenant_id, written[pilot.tenant_id])
    return written


@dataclass(frozen=True, slots=True)
class _Span:
    today: dt.date
    tz: ZoneInfo
    now: dt.datetime | None


async def _simulate_tenant(session: AsyncSession, pilot: Pilot, span: _Span, seed: int) -> int:
    has_events = select(func.count()).select_from(AdoptionEvent)
    if await session.scalar(has_events.where(AdoptionEvent.tenant_id == pilot.tenant_id)):
        return 0
    members = await member_ids(session=session, tenant_id=pilot.tenant_id)
    if not members:
        return 0
    rng = random.Random(f"{seed}:{pilot.tenant_id}")  # noqa: S311  (a reproducible simulation, not security)
    today, tz = span.today, span.tz
    events = [
        e
        for e in _events(pilot, members, today, tz, rng)
        if span.now is None or e["occurred_at"] <= span.now
    ]
    if not events:
        return 0
    now = dt.datetime.combine(today, dt.time(), tzinfo=tz)
    await ensure_partitions(session, first=events[0]["occurred_at"], last=now)
    # Sorted by key, so the B-tree fills in order; Core executemany, as the ORM's bulk path is
    # several times slower for 300k rows.
    ids = [
        {"tenant_id": pilot.tenant_id, "event_id": i} for i in sorted(e["event_id"] for e in events)
    ]
    await rollups.bulk_insert(session, AdoptionEventId, ids)
    await rollups.bulk_insert(session, AdoptionEvent, events)
    facts = [
        rollups.StoredFact(e["type"], e["occurred_at"], e["device_id"], e["member_id"])
        for e in events
    ]
    await rollups.load(session, tenant_id=pilot.tenant_id, tz=tz, facts=facts)
    return len(events)


def _events(
    pilot: Pilot, members: list[uuid.UUID], today: dt.date, tz: ZoneInfo, rng: random.Random
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for member, day in sorted(_activations(pilot, members, today, rng).items()):
        device = f"{pilot.tenant_id}-device-{member.hex[:12]}"
        rows.append(_row(pilot, rng, EventType.APP_INSTALLED, day, tz, None, device, "install"))
        rows.append(_row(pilot, rng, EventType.LOGIN, day, tz, member, device))
        month = month_of(day)
        while month <= today:
            if month == month_of(day) or rng.random() < pilot.monthly_return:
                days = _session_days(pilot, rng, max(month, day), today)
                if days and month != month_of(day):
                    rows.append(_row(pilot, rng, EventType.LOGIN, days[0], tz, member, device))
                rows += [
                    _row(pilot, rng, EventType.SESSION_STARTED, d, tz, member, device) for d in days
                ]
            month = next_month(month)
    rows.sort(key=lambda r: r["occurred_at"])
    return rows


def _activations(
    pilot: Pilot, members: list[uuid.UUID], today: dt.date, rng: random.Random
) -> dict[uuid.UUID, dt.date]:
    """Each activating member's first day: after the handbook reached them (their place in the
    ramp), then a delay weighted towards the first weeks; members not activated by today drop."""
    start = add_months(month_of(today), -pilot.months_ago)
    ramp_days = 30 * pilot.ramp_months
    chosen = rng.sample(members, round(len(members) * pilot.activation))
    days: dict[uuid.UUID, dt.date] = {}
    for member in chosen:
        # one step (the pilot) draws no place: its activation days stay those of earlier demos
        place = rng.random() if len(pilot.access) > 1 else 0.0
        reached = next(after for after, share in pilot.access if place < share)
        day = start + dt.timedelta(days=reached + int(ramp_days * rng.random() ** 1.5))
        if day <= today:
            days[member] = day
    return days


def _session_days(
    pilot: Pilot, rng: random.Random, first: dt.date, today: dt.date
) -> list[dt.date]:
    """A member's session days in ``first``'s month: drawn over the whole month, keeping those
    from ``first`` (the day they activated) to ``today`` (a partial month holds only its share)."""
    month = month_of(first)
    length = (next_month(month) - month).days
    drawn = (
        month + dt.timedelta(days=rng.randrange(length))
        for _ in range(rng.randint(*pilot.sessions))
    )
    return sorted(d for d in drawn if first <= d <= today)


def _row(
    pilot: Pilot,
    rng: random.Random,
    kind: EventType,
    day: dt.date,
    tz: ZoneInfo,
    member: uuid.UUID | None,
    device: str,
    token: str | None = None,
) -> dict[str, Any]:
    local = dt.datetime.combine(day, dt.time(6), tzinfo=tz) + dt.timedelta(
        minutes=rng.randint(0, 16 * 60)
    )
    moment = local.astimezone(dt.UTC)
    return {
        "tenant_id": pilot.tenant_id,
        "event_id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "occurred_at": moment,
        "type": kind.value,
        "member_id": member,
        "device_id": device,
        "install_token": f"{device}-token" if token else None,
        "screen": None,
        "received_at": moment,
    }
