"""Ingest on PostgreSQL: a batch sent as arrays, stored and counted by one statement.

:func:`store` sends each column of the batch as one array (asyncpg encodes them in binary) to
one statement of data-modifying CTEs. It claims the ids, stores the events whose ids were new,
and adds those to every rollup: member-days and member-months (``ON CONFLICT DO NOTHING
RETURNING`` yields the members newly active), daily and monthly active members and sessions,
first activation and install days. The rules are those of :func:`.rollups.apply`, in SQL: a
local day is ``(occurred_at AT TIME ZONE tz)::date`` (as :func:`.calendar.local_day`), a week
starts on its ISO Monday, a month on its 1st. SQLite keeps the row-wise path of :mod:`.service`.

Why it holds when batches run concurrently:

- every CTE sees the snapshot the statement started with, and an upsert may not reach a row
  twice: rows are grouped first (one per day, month, member or device), and active members and
  sessions are added by the same upsert;
- each upsert takes its rows sorted by key, and the tables are written in a fixed order (each
  CTE reads its sorted or grouped input to the end before writing);
- the triggers counting activations and installs per day (migration 0004) are ``AFTER`` row
  triggers: they run once the statement is done, and see the daily rows it wrote. The daily
  upsert also takes the days of the batch's logins and installs (adding nothing), so the rows
  those triggers update are already locked in day order; only a late login that moves an
  activation to an earlier day takes one more row (the old day) afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from adoption.events import ValidEvent
from adoption.partitions import ensure_partitions

_STORE = text(
    """
WITH batch AS (
    SELECT e.*, CAST(:tenant_id AS text) AS tenant_id, CAST(:member_id AS uuid) AS member_id
    FROM unnest(
        CAST(:event_ids AS uuid[]), CAST(:occurred_at AS timestamptz[]), CAST(:types AS text[]),
        CAST(:device_ids AS text[]), CAST(:install_tokens AS text[]), CAST(:screens AS text[])
    ) WITH ORDINALITY AS e(event_id, occurred_at, type, device_id, install_token, screen, position)
),
claimed AS (
    INSERT INTO adoption_event_ids (tenant_id, event_id)
    SELECT tenant_id, event_id FROM batch ORDER BY event_id
    ON CONFLICT DO NOTHING
    RETURNING event_id
),
fresh AS (
    SELECT batch.*, (occurred_at AT TIME ZONE CAST(:timezone AS text))::date AS day
    FROM batch JOIN claimed USING (event_id)
),
stored AS (
    INSERT INTO adoption_events (
        tenant_id, occurred_at, event_id, type, member_id, device_id, install_token, screen,
        received_at
    )
    SELECT tenant_id, occurred_at, event_id, type, member_id, device_id, install_token, screen,
           CAST(:received_at AS timestamptz)
    FROM fresh
),
active AS (
    SELECT DISTINCT tenant_id, day, member_id FROM fresh
    WHERE member_id IS NOT NULL AND type IN ('login', 'session_started')
),
new_days AS (
    INSERT INTO adoption_member_days (tenant_id, day, member_id, week)
    SELECT tenant_id, day, member_id, date_trunc('week', day::timestamp)::date
    FROM active ORDER BY day, member_id
    ON CONFLICT DO NOTHING
    RETURNING day
),
new_months AS (
    INSERT INTO adoption_member_months (tenant_id, month, member_id)
    SELECT DISTINCT tenant_id, date_trunc('month', day::timestamp)::date, member_id
    FROM active ORDER BY 2, 3
    ON CONFLICT DO NOTHING
    RETURNING month
),
uses AS (
    SELECT day, count(*) AS sessions FROM fresh WHERE type = 'session_started' GROUP BY day
),
daily AS (
    INSERT INTO adoption_daily AS d (tenant_id, day, active_members, sessions)
    SELECT CAST(:tenant_id AS text), day, sum(members), sum(sessions)
    FROM (
        SELECT day, 1 AS members, 0 AS sessions FROM new_days
        UNION ALL
        SELECT day, 0, sessions FROM uses
        UNION ALL  -- lock the days the 0004 triggers will count, here in order
        SELECT DISTINCT day, 0, 0 FROM fresh WHERE type IN ('login', 'app_installed')
    ) AS counts
    GROUP BY day ORDER BY day
    ON CONFLICT (tenant_id, day) DO UPDATE SET
        active_members = d.active_members + excluded.active_members,
        sessions = d.sessions + excluded.sessions
),
monthly AS (
    INSERT INTO adoption_monthly AS m (tenant_id, month, active_members, sessions)
    SELECT CAST(:tenant_id AS text), month, sum(members), sum(sessions)
    FROM (
        SELECT month, 1 AS members, 0 AS sessions FROM new_months
        UNION ALL
        SELECT date_trunc('month', day::timestamp)::date, 0, sessions FROM uses
    ) AS counts
    GROUP BY month ORDER BY month
    ON CONFLICT (tenant_id, month) DO UPDATE SET
        active_members = m.active_members + excluded.active_members,
        sessions = m.sessions + excluded.sessions
),
activation AS (
    INSERT INTO adoption_activations AS a (tenant_id, member_id, activated_on)
    SELECT tenant_id, member_id, min(day) FROM fresh
    WHERE member_id IS NOT NULL AND type = 'login'
    GROUP BY tenant_id, member_id ORDER BY member_id
    ON CONFLICT (tenant_id, member_id) DO UPDATE SET activated_on = excluded.activated_on
    WHERE excluded.activated_on < a.activated_on
),
install AS (
    INSERT INTO adoption_installs AS i (tenant_id, device_id, installed_on)
    SELECT tenant_id, device_id, min(day) FROM fresh
    WHERE type = 'app_installed'
    GROUP BY tenant_id, device_id ORDER BY device_id
    ON CONFLICT (tenant_id, device_id) DO UPDATE SET installed_on = excluded.installed_on
    WHERE excluded.installed_on < i.installed_on
)
SELECT array_agg(position) FROM fresh
"""
)


async def store(
    session: AsyncSession,
    *,
    tenant_id: str,
    timezone: str,
    member_id: uuid.UUID | None,
    events: Sequence[ValidEvent],
    now: dt.datetime,
) -> list[ValidEvent]:
    """Store the events whose ids ``tenant_id`` has not seen and add them to the rollups;
    returns those (the others are retries). Ids must be unique within ``events``.

    Partitions are made for every event's month first: which ids are new is only known inside
    the statement."""
    if not events:
        return []
    await ensure_partitions(
        session,
        first=min(e.occurred_at for e in events),
        last=max(e.occurred_at for e in events),
    )
    connection = await session.connection()
    result = await connection.execute(
        _STORE,
        {
            "tenant_id": tenant_id,
            "member_id": member_id,
            "timezone": timezone,
            "received_at": now,
            "event_ids": [e.event_id for e in events],
            "occurred_at": [e.occurred_at for e in events],
            "types": [e.type.value for e in events],
            "device_ids": [e.device_id for e in events],
            "install_tokens": [e.install_token for e in events],
            "screens": [e.screen for e in events],
        },
    )
    positions = result.scalar_one() or []
    return [events[position - 1] for position in sorted(positions)]
