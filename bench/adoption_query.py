"""The province dashboard query: monthly KPIs of every tenant, from rollups vs raw events.

Run: ``.venv/bin/python bench/adoption_query.py [--events N] [--runs R]``

A throw-away PostgreSQL database gets N events (default 10 million) over 12 tenants and 12
months (generated server-side with ``generate_series``: 6,000 members per tenant, sessions and
logins), then the rollups. The rollups are filled with set-based ``INSERT … SELECT … GROUP BY``
over the events (the same definitions as ``adoption.rollups``; a Python rebuild of 10
million events would take long and measure nothing the dashboard does). Timed, as the
application's role through the province path: ``adoption.read_model`` — each tenant's
12 monthly points (members, installs, activation, active members, uses, stickiness). Same-run
baseline: one ``GROUP BY`` over the raw events for the same monthly active members and uses.
"""

# ruff: noqa: S608  (the SQL is built from this module's constants only, never from input)

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from adoption import read_model
from adoption.series import Granularity
from bench import _harness as harness
from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway import migrate
from gateway.roles import create_app_role

TENANTS = 12
MEMBERS = 6_000
START = dt.date(2025, 12, 1)
END = dt.date(2026, 11, 30)
TZ = "Asia/Ho_Chi_Minh"

SETUP = f"""
INSERT INTO provinces VALUES ('bench', 'Bench', '{TZ}');
INSERT INTO tenants SELECT 't' || lpad(t::text, 2, '0'), 'bench', NULL, 'Tenant ' || t, 'district'
  FROM generate_series(1, {TENANTS}) t;
INSERT INTO organisations SELECT id, '00000000-0000-0000-0000-000000000001'::uuid, NULL, 'o'
  FROM tenants WHERE province_id = 'bench';
INSERT INTO branches SELECT id, '00000000-0000-0000-0000-000000000002'::uuid,
  '00000000-0000-0000-0000-000000000001'::uuid, 'b' FROM tenants WHERE province_id = 'bench';
INSERT INTO members SELECT t.id, ('00000000-0000-0000-0000-' || lpad(m::text, 12, '0'))::uuid,
  '00000000-0000-0000-0000-000000000002'::uuid, 'm' || m, 1980, DATE '2010-01-01', 'Đảng viên',
  'official', false FROM tenants t, generate_series(1, {MEMBERS}) m WHERE t.province_id = 'bench';
"""
EVENTS = """
INSERT INTO adoption_events (tenant_id, occurred_at, event_id, type, member_id, device_id,
                             install_token, screen, received_at)
SELECT 't' || lpad((1 + n % {tenants})::text, 2, '0'), at, gen_random_uuid(),
       CASE WHEN n % 5 = 0 THEN 'login' ELSE 'session_started' END,
       ('00000000-0000-0000-0000-' || lpad((1 + (n / {tenants}) % {members})::text, 12, '0'))::uuid,
       'device-' || (n / {tenants}) % {members}, NULL, NULL, at
FROM (SELECT n, TIMESTAMPTZ '{start}' + (random() * interval '{days} days') AS at
      FROM generate_series(0, {count} - 1) n) s
"""
ROLLUPS = f"""
INSERT INTO adoption_member_days
SELECT DISTINCT tenant_id, (occurred_at AT TIME ZONE '{TZ}')::date, member_id,
       date_trunc('week', occurred_at AT TIME ZONE '{TZ}')::date FROM adoption_events;
INSERT INTO adoption_member_months
SELECT DISTINCT tenant_id, date_trunc('month', day)::date, member_id FROM adoption_member_days;
INSERT INTO adoption_daily
SELECT d.tenant_id, d.day, d.active, coalesce(s.sessions, 0)
FROM (SELECT tenant_id, day, count(*) active FROM adoption_member_days GROUP BY 1, 2) d
LEFT JOIN (SELECT tenant_id, (occurred_at AT TIME ZONE '{TZ}')::date AS day, count(*) sessions
           FROM adoption_events WHERE type = 'session_started' GROUP BY 1, 2) s
     USING (tenant_id, day);
INSERT INTO adoption_monthly
SELECT m.tenant_id, m.month, m.active, d.sessions
FROM (SELECT tenant_id, month, count(*) active FROM adoption_member_months GROUP BY 1, 2) m
JOIN (SELECT tenant_id, date_trunc('month', day)::date AS month, sum(sessions) sessions
      FROM adoption_daily GROUP BY 1, 2) d USING (tenant_id, month);
INSERT INTO adoption_activations
SELECT tenant_id, member_id, min((occurred_at AT TIME ZONE '{TZ}')::date)
FROM adoption_events WHERE type = 'login' GROUP BY 1, 2;
INSERT INTO adoption_installs
SELECT tenant_id, device_id, min((occurred_at AT TIME ZONE '{TZ}')::date)
FROM adoption_events GROUP BY 1, 2;
ANALYZE;
"""
RAW = f"""
SELECT tenant_id, date_trunc('month', occurred_at AT TIME ZONE '{TZ}') AS month,
       count(DISTINCT member_id) AS active, count(*) FILTER (WHERE type = 'session_started') AS uses
FROM adoption_events
WHERE occurred_at >= TIMESTAMPTZ '{START} 00:00+07'
  AND occurred_at < TIMESTAMPTZ '2026-12-01 00:00+07'
GROUP BY 1, 2
"""


async def _load(name: str, events: int) -> float:
    admin = harness.pg_url(name, harness.PG_SUPERUSER)
    await asyncio.to_thread(migrate.upgrade, admin)
    await create_app_role(admin, name="pilotgraph_app", password=None)
    conn = await asyncpg.connect(host=harness.HOST, user=harness.PG_SUPERUSER, database=name)
    started = time.perf_counter()
    try:
        await conn.execute(SETUP)
        await conn.execute(
            "SELECT adoption_ensure_partitions(DATE '2025-11-01', DATE '2026-12-31')"
        )
        sql = EVENTS.format(
            tenants=TENANTS,
            members=MEMBERS,
            start=f"{START} 00:00+07",
            days=(END - START).days + 1,
            count=events,
        )
        await conn.execute(sql)
        await conn.execute(ROLLUPS)
    finally:
        await conn.close()
    return time.perf_counter() - started


async def _time_dashboard(name: str, runs: int) -> list[float]:
    engine = make_engine(harness.pg_url(name, "pilotgraph_app"), statement_timeout_ms=0)
    timings = []
    try:
        for _ in range(runs):
            async with make_sessionmaker(engine)() as session:
                started = time.perf_counter()
                target = await read_model.province_target(session=session, province_id="bench")
                await read_model.tenant_series(
                    session=session,
                    target=target,
                    start=START,
                    end=END,
                    granularity=Granularity.MONTH,
                )
                timings.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return timings


async def _time_raw(name: str, runs: int) -> list[float]:
    conn = await asyncpg.connect(host=harness.HOST, user=harness.PG_SUPERUSER, database=name)
    timings = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            await conn.fetch(RAW)
            timings.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--raw-runs", type=int, default=3)
    args = parser.parse_args()
    name = harness.fresh_db_name("bench_adoption")
    await harness.create_database(name)
    try:
        load_s = await _load(name, args.events)
        dashboard = sorted(await _time_dashboard(name, args.runs))
        raw = sorted(await _time_raw(name, args.raw_runs))
        print(await harness.machine_summary())
        print(
            f"{args.events:,} events, {TENANTS} tenants × {MEMBERS:,} members, 12 months; "
            f"generated and rolled up in {load_s:.0f} s"
        )
        rows = [
            [
                "rollups: 12 tenants × 12 monthly points (province path, app role)",
                str(args.runs),
                f"{statistics.median(dashboard) * 1000:.1f}",
                f"{harness.percentile(dashboard, 0.95) * 1000:.1f}",
            ],
            [
                "raw events GROUP BY (baseline, active + uses only)",
                str(args.raw_runs),
                f"{statistics.median(raw) * 1000:.1f}",
                f"{harness.percentile(raw, 0.95) * 1000:.1f}",
            ],
        ]
        print(harness.format_table(["query", "runs", "p50 ms", "p95 ms"], rows))
    finally:
        await harness.drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
