"""Nineteen months of two tenants' events with their rollups, and every KPI the product reads:
what retention, erasure and the backup drill compare before and after."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from adoption import read_model, rollups
from adoption.calendar import zone
from adoption.models import AdoptionEvent, AdoptionEventId
from adoption.partitions import ensure_partitions
from adoption.series import Granularity
from db.sessions import scope_session
from tests.world import KIM_SON, NOW, PROVINCE, YEN_MO

TZ = "Asia/Ho_Chi_Minh"
TENANTS = (YEN_MO, KIM_SON)
FIRST_MONTH = dt.date(2025, 5, 1)  # 19 months of events up to NOW (2026-11-25)
MONTHS = 19
CUTOFF = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)  # 13 months before November 2026
MEMBERS = [uuid.UUID(int=0xE7_0000 + n) for n in range(80)]
KINDS = ("login", "session_started", "session_started", "app_installed", "screen_viewed")


def history(tenant: str, salt: int) -> list[dict[str, Any]]:
    """Events on every day of 19 months, at hours that straddle UTC and local month ends."""
    rows = []
    day = dt.datetime.combine(FIRST_MONTH, dt.time(), tzinfo=dt.UTC)
    n = 0
    while day.date() < NOW.date():
        for i in range(6):
            n += 1
            at = day + dt.timedelta(hours=(i * 5 + salt) % 24, minutes=i)
            kind = KINDS[(n + salt) % len(KINDS)]
            rows.append(
                {
                    "tenant_id": tenant,
                    "occurred_at": at,
                    "event_id": uuid.UUID(int=(salt << 64) + n),
                    "type": kind,
                    "member_id": MEMBERS[(n * 7 + day.month + salt) % len(MEMBERS)],
                    "device_id": f"d-{salt}-{n % 90}",
                    "screen": "meetings" if kind == "screen_viewed" else None,
                    "received_at": at,
                }
            )
        day += dt.timedelta(days=1)
    return rows


async def load_events(sessions: Callable[[], AsyncSession]) -> dict[str, int]:
    counts = {}
    for salt, tenant in enumerate(TENANTS, start=1):
        rows = history(tenant, salt)
        async with scope_session(sessions(), tenant) as session:
            await ensure_partitions(session, first=rows[0]["occurred_at"], last=NOW)
            await session.execute(insert(AdoptionEvent), rows)
            await session.execute(
                insert(AdoptionEventId),
                [{"tenant_id": tenant, "event_id": r["event_id"]} for r in rows],
            )
            await rollups.rebuild(session, tenant_id=tenant, tz=zone(TZ))
            await session.commit()
        counts[tenant] = sum(1 for r in rows if r["occurred_at"] < CUTOFF)
    return counts


async def kpis(sessions: Callable[[], AsyncSession]) -> dict[str, Any]:
    """Every KPI the product reads, for every period since the first event: per tenant and
    for the province, by day, week and month; retention cohorts; this month's summaries."""
    start, end = FIRST_MONTH, NOW.date()
    found: dict[str, Any] = {}
    async with scope_session(sessions(), None) as session:
        province = await read_model.province_target(session=session, province_id=PROVINCE)
        for granularity in Granularity:
            found[f"province-{granularity}"] = await read_model.adoption_series(
                session=session, target=province, start=start, end=end, granularity=granularity
            )
            found[f"tenants-{granularity}"] = await read_model.tenant_series(
                session=session, target=province, start=start, end=end, granularity=granularity
            )
        found["cohorts"] = await read_model.retention_cohorts(
            session=session, target=province, as_of=end, months=MONTHS + 1
        )
        found["summaries"] = await read_model.per_tenant_summaries(
            session=session, target=province, as_of=end
        )
    for tenant in TENANTS:
        async with scope_session(sessions(), tenant) as session:
            found[tenant] = await read_model.adoption_series(
                session=session,
                target=read_model.Target.tenant(tenant),
                start=start,
                end=end,
                granularity=Granularity.MONTH,
            )
    return found
