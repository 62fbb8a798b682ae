"""Adoption ingest: events per second in one process on PostgreSQL, batched vs one at a time.

Run: ``.venv/bin/python bench/ingest.py [--events N] [--batch B] [--naive-events M]``

A throw-away database is migrated (monthly partitions, RLS) and the gateway connects as the
application's role (no BYPASSRLS), as in production. The measured path is
``adoption.service.ingest``: validation, exactly-once id claim, multi-row event insert and
the rollups, one transaction per batch of ``B`` events from one member (as one ``POST /v1/events``
does). Same-run baseline: a naive loop that, per event, claims its id, inserts it and updates the
rollups with one statement each (``INSERT … ON CONFLICT`` per event), committing per event.
A second pass re-sends every batch (retries): they must store nothing. The CPU the batched run
cost this process and its PostgreSQL backend, and what other processes used meanwhile (the
machine is shared), are printed under the table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from adoption import rollups, service
from adoption.calendar import zone
from adoption.install_tokens import InstallTokenKey
from adoption.models import AdoptionEvent, AdoptionEventId
from bench import _harness as harness
from db.dialect import insert as upsert
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from gateway import migrate
from gateway.roles import create_app_role
from tenants.handbook.models import Member
from tenants.models import Branch, Organisation, Province, Tenant

TENANT = "bench"
TZ = "Asia/Ho_Chi_Minh"
NOW = dt.datetime.now(dt.UTC)
# Members' events carry no install token: the key is never used, but ingest needs one.
INSTALL_KEY = InstallTokenKey(b"bench: install-token key, 32 bytes or more")
KINDS = ("session_started", "session_started", "session_started", "screen_viewed", "login")


def _batches(
    members: list[uuid.UUID], total: int, size: int, rng: random.Random
) -> list[tuple[uuid.UUID, list[dict[str, Any]]]]:
    batches = []
    for start in range(0, total, size):
        member = rng.choice(members)
        events = []
        for _ in range(min(size, total - start)):
            kind = rng.choice(KINDS)
            moment = NOW - dt.timedelta(seconds=rng.randint(0, 80 * 86_400))
            event = {
                "id": str(uuid.uuid4()),
                "type": kind,
                "timestamp": moment.isoformat(),
                "deviceId": f"device-{member.hex[:8]}",
            }
            if kind == "screen_viewed":
                event["screen"] = "meetings"
            events.append(event)
        batches.append((member, events))
    return batches


async def _setup(admin_url: str, members: int) -> list[uuid.UUID]:
    await asyncio.to_thread(migrate.upgrade, admin_url)
    await create_app_role(admin_url, name="pilotgraph_app", password=None)
    engine = make_engine(admin_url)
    ids = [uuid.uuid4() for _ in range(members)]
    org, branch = uuid.uuid4(), uuid.uuid4()
    async with make_sessionmaker(engine)() as session:
        session.add(Province(id="bench-province", name="Bench", timezone=TZ))
        await session.flush()
        session.add(Tenant(id=TENANT, province_id="bench-province", name="Bench", kind="district"))
        await session.flush()
        await session.execute(insert(Organisation), [{"tenant_id": TENANT, "id": org, "name": "o"}])
        await session.execute(
            insert(Branch),
            [{"tenant_id": TENANT, "id": branch, "organisation_id": org, "name": "b"}],
        )
        await session.execute(
            insert(Member),
            [
                {
                    "tenant_id": TENANT,
                    "id": i,
                    "branch_id": branch,
                    "full_name": f"m{n}",
                    "birth_year": 1980,
                    "joined_on": dt.date(2010, 1, 1),
                    "position": "Đảng viên",
                    "status": "official",
                }
                for n, i in enumerate(ids)
            ],
        )
        await session.execute(
            text("SELECT adoption_ensure_partitions(CAST(:a AS date), CAST(:b AS date))"),
            {"a": (NOW - dt.timedelta(days=100)).date(), "b": NOW.date()},
        )
        await session.commit()
    await engine.dispose()
    return ids


@dataclass(frozen=True)
class _Cpu:
    """CPU seconds: this process, the database's backends, the whole machine."""

    python_s: float
    database_s: float
    machine_s: float

    def __sub__(self, other: _Cpu) -> _Cpu:
        return _Cpu(
            self.python_s - other.python_s,
            self.database_s - other.database_s,
            self.machine_s - other.machine_s,
        )


def _cpu(backends: list[int]) -> _Cpu:
    return _Cpu(time.process_time(), harness.processes_cpu_s(backends), harness.machine_busy_s())


def _cpu_line(cpu: _Cpu, events: int, seconds: float) -> str:
    other = max(0.0, cpu.machine_s - cpu.python_s - cpu.database_s)
    return (
        f"CPU in the batched run: Python {cpu.python_s / events * 1e6:.1f} µs/event, its "
        f"PostgreSQL backend {cpu.database_s / events * 1e6:.1f} µs/event; everything else "
        f"(PostgreSQL's WAL writer and checkpointer too) {other / seconds * 100:.0f}% of a core"
    )


async def _batched(
    sessions: Any, batches: list[tuple[uuid.UUID, list[dict[str, Any]]]]
) -> tuple[float, int]:
    stored = 0
    started = time.perf_counter()
    for member, events in batches:
        async with scope_session(sessions(), TENANT) as session:
            result = await service.ingest(
                session=session,
                tenant_id=TENANT,
                timezone=TZ,
                member_id=member,
                events=events,
                now=NOW,
                install_key=INSTALL_KEY,
            )
            await session.commit()
        stored += result.stored
    return time.perf_counter() - started, stored


async def _naive(sessions: Any, batches: list[tuple[uuid.UUID, list[dict[str, Any]]]]) -> float:
    tz = zone(TZ)
    started = time.perf_counter()
    for member, events in batches:
        for event in events:
            moment = dt.datetime.fromisoformat(event["timestamp"])
            async with scope_session(sessions(), TENANT) as session:
                claim = (
                    upsert(session, AdoptionEventId)
                    .values(tenant_id=TENANT, event_id=uuid.UUID(event["id"]))
                    .on_conflict_do_nothing()
                )
                if await session.scalar(claim.returning(AdoptionEventId.event_id)) is not None:
                    await session.execute(
                        insert(AdoptionEvent).values(
                            tenant_id=TENANT,
                            event_id=uuid.UUID(event["id"]),
                            occurred_at=moment,
                            type=event["type"],
                            member_id=member,
                            device_id=event["deviceId"],
                            screen=event.get("screen"),
                            received_at=NOW,
                        )
                    )
                    fact = rollups.StoredFact(event["type"], moment, event["deviceId"], member)
                    await rollups.apply(session, tenant_id=TENANT, tz=tz, facts=[fact])
                await session.commit()
    return time.perf_counter() - started


def _row(path: str, events: int, seconds: float, stored: str) -> list[str]:
    return [path, f"{events:,}", f"{seconds:.2f}", f"{events / seconds:,.0f}", stored]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--naive-events", type=int, default=5_000)
    parser.add_argument("--members", type=int, default=6_000)
    args = parser.parse_args()
    name = harness.fresh_db_name("bench_ingest")
    await harness.create_database(name)
    try:
        members = await _setup(harness.pg_url(name, harness.PG_SUPERUSER), args.members)
        engine = make_engine(harness.pg_url(name, "pilotgraph_app"))
        sessions = make_sessionmaker(engine)
        rng = random.Random(5)
        batches = _batches(members, args.events, args.batch, rng)
        naive = _batches(members, args.naive_events, args.batch, rng)
        async with engine.connect() as connection:  # the pooled backend whose CPU is read
            await connection.execute(text("SELECT 1"))
        backends = await harness.backend_pids(name)
        before = _cpu(backends)
        batched_s, stored = await _batched(sessions, batches)
        cpu = _cpu(backends) - before
        retry_s, restored = await _batched(sessions, batches)
        naive_s = await _naive(sessions, naive)
        await engine.dispose()
        print(await harness.machine_summary())
        print(f"PostgreSQL {await harness.postgres_version()}, one process, app role (RLS on)")
        rows = [
            _row("batched ingest (service.ingest)", args.events, batched_s, f"{stored:,}"),
            _row("same batches retried", args.events, retry_s, f"{restored:,}"),
            _row("naive: one INSERT per event (baseline)", args.naive_events, naive_s, "-"),
        ]
        print(harness.format_table(["path", "events", "seconds", "events/s", "stored"], rows))
        speed_up = (args.events / batched_s) / (args.naive_events / naive_s)
        print(f"batch size {args.batch}; speed-up over naive: {speed_up:.1f}x")
        print(_cpu_line(cpu, args.events, batched_s))
    finally:
        await harness.drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
