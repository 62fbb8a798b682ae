"""National scale: 5,000,000 members in 700 tenants of 63 provinces, against the demo.

Run: ``.venv/bin/python bench/national.py [--scale 0.1] [--duration S] [--keep-db]``

Creates two PostgreSQL databases on 127.0.0.1, migrates both (``pilotgraph db upgrade``) and
creates the application role. One gets the demo (``pilotgraph demo load``: Ninh Binh's 12
tenants); the other a nation generated in PostgreSQL: 63 provinces, 700 tenants,
``5,000,000 × scale`` members in branches of grassroots organisations (the demo's proportions),
a monthly meeting per branch from three months ago to next month, weekly tenant-wide notices and
a few notices per branch over the past year, and the adoption rollups a province dashboard
reads. Rows are written with ``INSERT … SELECT generate_series`` and ``COPY``; while loading,
row triggers are off (``session_replication_role = replica``) and the member counters they keep
are filled afterwards in one statement. Both databases are then analysed.

Measured, on a gateway per database (``pilotgraph serve``, same worker count):

- resident memory (``VmRSS``) of each worker after start, and again after the load;
- the member home (the ``Home`` trusted document, sent by hash) by random members of random
  tenants: p50 and p99, the national database against the demo's, in alternating blocks;
- a province dashboard (the console's ``ProvinceTenants`` then ``AdoptionByTenant`` for a
  random province): a province of about 11 tenants among 700, against Ninh Binh's 12;
- ``EXPLAIN (ANALYZE, BUFFERS)`` of every statement the gateway runs for one member home,
  captured from a gateway on the national database and replayed as the application role with
  the same ``app.*`` settings, so that plans are those row-level security allows.

Any failed request makes the exit status 1. Databases are dropped at the end unless
``--keep-db``.
"""

# ruff: noqa: S608  (the SQL is built from this module's constants only, never from input)

from __future__ import annotations

import argparse
import asyncio
import contextvars
import datetime as dt
import json
import math
import os
import pickle
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BIN,
    HOST,
    PG_PORT,
    PG_SUPERUSER,
    REPO_ROOT,
    BenchError,
    Server,
    cancel_on_signals,
    clean_env,
    create_database,
    drop_database,
    format_table,
    free_port,
    fresh_db_name,
    machine_summary,
    percentile,
    pg_url,
    run_cli,
    start_server,
    stop_server,
    wait_ready,
)

APP_ROLE = "pilotgraph_app"
FULL_MEMBERS = 5_000_000
TENANTS = 700
PROVINCES = 63
MEMBERS_PER_ORGANISATION = 113  # Ninh Binh: 75,180 members in 663 grassroots organisations
TIMEZONE = "Asia/Ho_Chi_Minh"
MANIFEST = REPO_ROOT / "clients" / "trusted-documents" / "manifest.json"
CAPTURE_ENV = "PILOTGRAPH_BENCH_CAPTURE"
RSS_LIMIT_MIB = 512.0
P99_LIMIT_RATIO = 1.2


# --- the nation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NationPlan:
    """Provinces, tenants and branches, with each branch's member count (seeded)."""

    provinces: list[tuple[str, str, str]]
    tenants: list[tuple[str, str, str | None, str, str]]
    organisations: list[tuple[str, uuid.UUID, uuid.UUID | None, str]]
    branches: list[tuple[str, uuid.UUID, uuid.UUID, str]]
    branch_sizes: list[tuple[str, uuid.UUID, int]]


def _split(rng: random.Random, total: int, parts: int, minimum: int) -> list[int]:
    """``total`` in ``parts`` random shares of at least ``minimum``, summing exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    spare = max(0, total - minimum * parts)
    shares = [minimum + int(spare * w / sum(weights)) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % parts] += 1
    return shares


def _rng_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def plan_nation(members: int, seed: int) -> NationPlan:
    """63 provinces, 700 tenants (the last two of each province its committees), branches."""
    rng = random.Random(seed)
    provinces = [(f"tinh-{p:02d}", f"Tỉnh số {p:02d}", TIMEZONE) for p in range(1, PROVINCES + 1)]
    plan = NationPlan(provinces, [], [], [], [])
    per_tenant = _split(rng, members, TENANTS, minimum=30)
    for index, tenant_members in enumerate(per_tenant):
        province = provinces[index % PROVINCES][0]
        number = index // PROVINCES + 1
        committee = number > TENANTS // PROVINCES - 1
        slug = f"{province}-dv-{number:02d}"
        kind = "provincial_committee" if committee else "district"
        plan.tenants.append((slug, province, None, f"Đảng bộ {number:02d} {province}", kind))
        _plan_tenant(rng, plan, slug, tenant_members)
    return plan


def _plan_tenant(rng: random.Random, plan: NationPlan, slug: str, members: int) -> None:
    branches: list[tuple[str, uuid.UUID, uuid.UUID, str]] = []
    for o in range(max(1, members // MEMBERS_PER_ORGANISATION)):
        org_id = _rng_uuid(rng)
        plan.organisations.append((slug, org_id, None, f"Đảng bộ xã số {o + 1}"))
        for k in range(1, rng.randint(2, 6) + 1):
            branches.append((slug, _rng_uuid(rng), org_id, f"Chi bộ thôn {k}"))
    branches = branches[: max(1, members // 3)]
    plan.branches.extend(branches)
    sizes = _split(rng, members, len(branches), minimum=3)
    plan.branch_sizes.extend((slug, b[1], n) for b, n in zip(branches, sizes, strict=True))


def _name_arrays() -> list[list[str]]:
    from tenants.demo import names

    family = [name for name, weight in names.FAMILY for _ in range(weight)]
    return [
        family,
        list(names.MIDDLE_MALE),
        list(names.GIVEN_MALE),
        list(names.MIDDLE_FEMALE),
        list(names.GIVEN_FEMALE),
    ]


# Picks one element of a 1-based text array at random.
def _pick(array: str) -> str:
    return f"({array})[1 + floor(random() * cardinality({array}))::int]"


# Every random value is drawn in the inner query's select list, once per row: a LATERAL
# subquery drawing them would be memoized by PostgreSQL per outer value (PG 14+ Memoize), giving
# every member of the same position the same birth year.
MEMBERS_SQL = f"""
INSERT INTO members (tenant_id, id, branch_id, full_name, birth_year, joined_on, position,
                     status, is_religious_believer)
SELECT x.tenant_id, gen_random_uuid(), x.branch_id,
       normalize({_pick("$1::text[]")} || ' ' ||
         CASE WHEN x.male THEN {_pick("$2::text[]")} || ' ' || {_pick("$3::text[]")}
              ELSE {_pick("$4::text[]")} || ' ' || {_pick("$5::text[]")} END, NFC),
       x.birth_year, x.joined_on,
       CASE x.n WHEN 1 THEN 'Bí thư chi bộ' WHEN 2 THEN 'Phó Bí thư chi bộ' ELSE 'Đảng viên' END,
       CASE WHEN current_date - x.joined_on < 365 THEN 'probationary' ELSE 'official' END,
       random() < 0.03
FROM (
    SELECT y.*, least(current_date, make_date(
               y.birth_year + 18 + floor(y.joined_share * (least(
                   extract(year FROM current_date)::int - 18, y.birth_year + 42) - y.birth_year
                   + 1))::int,
               y.month, y.day)) AS joined_on
    FROM (
        SELECT b.tenant_id, b.branch_id, g.n, random() < 0.55 AS male,
               1945 + floor(random() * (extract(year FROM current_date) - 1964))::int
                   AS birth_year,
               random() AS joined_share,
               1 + floor(random() * 12)::int AS month, 1 + floor(random() * 28)::int AS day
        FROM bench_branch_sizes b CROSS JOIN LATERAL generate_series(1, b.size) AS g(n)
        WHERE b.tenant_id = ANY($6::text[])
        OFFSET 0
    ) y
    OFFSET 0
) x
"""

MEETINGS_SQL = f"""
INSERT INTO meetings (tenant_id, id, branch_id, title, starts_at, ends_at, place, agenda,
                      status, cancel_reason, version)
SELECT s.tenant_id, gen_random_uuid(), s.id,
       'Sinh hoạt chi bộ định kỳ tháng ' || to_char(s.starts_at AT TIME ZONE '{TIMEZONE}',
                                                    'MM/YYYY'),
       s.starts_at, s.starts_at + interval '3 hours',
       'Nhà văn hóa ' || regexp_replace(s.name, '^Chi bộ ', ''),
       E'1. Đánh giá kết quả tháng trước\\n2. Nhiệm vụ tháng tới',
       CASE WHEN s.starts_at + interval '3 hours' < now() THEN 'held' ELSE 'scheduled' END,
       NULL, 1
FROM (
    SELECT b.tenant_id, b.id, b.name,
           (date_trunc('month', current_date::timestamp) + make_interval(months => o.months)
            + make_interval(days => 2 + floor(random() * 8)::int, hours => 8))
           AT TIME ZONE '{TIMEZONE}' AS starts_at
    FROM branches b CROSS JOIN generate_series(-3, 1) AS o(months)
    OFFSET 0
) s
"""

NOTICE_KINDS = "(ARRAY['party_task', 'government_task', 'general'])"
TENANT_NOTICES_SQL = f"""
INSERT INTO notices (tenant_id, id, branch_id, kind, title, body, published_at, published_by)
SELECT t.id, gen_random_uuid(), NULL, {NOTICE_KINDS}[1 + w.n % 3],
       'Thông báo tuần ' || w.n || ' của ' || t.name, 'Đề nghị các chi bộ triển khai thực hiện.',
       ((current_date - (7 * w.n + 1))::timestamp + interval '9 hours') AT TIME ZONE '{TIMEZONE}',
       t.id || '-organisation-department'
FROM tenants t CROSS JOIN generate_series(0, 51) AS w(n)
"""
BRANCH_NOTICES_SQL = f"""
INSERT INTO notices (tenant_id, id, branch_id, kind, title, body, published_at, published_by)
SELECT b.tenant_id, gen_random_uuid(), b.id, {NOTICE_KINDS}[1 + k.n % 3],
       'Thông báo của ' || b.name, 'Đảng viên chi bộ tham gia đầy đủ.',
       now() - random() * interval '365 days', b.tenant_id || '-branch-secretary'
FROM branches b CROSS JOIN generate_series(1, 4) AS k(n)
"""
COUNTS_SQL = """
INSERT INTO adoption_member_counts (tenant_id, joined_on, members)
SELECT tenant_id, joined_on, count(*) FROM members
WHERE status <> 'transferred' GROUP BY tenant_id, joined_on
"""
DAILY_SQL = """
INSERT INTO adoption_daily (tenant_id, day, active_members, sessions, new_activations,
                            new_installs)
SELECT a.tenant_id, a.day, a.active, a.active * 2, a.members / 200, a.members / 180
FROM (
    SELECT s.tenant_id, s.members, d.day::date AS day,
           (s.members * (0.2 + 0.3 * random()))::int AS active
    FROM (SELECT tenant_id, sum(size)::int AS members FROM bench_branch_sizes GROUP BY 1) s
    CROSS JOIN generate_series(current_date - 120, current_date - 1, interval '1 day') AS d(day)
    OFFSET 0
) a
"""
MONTHLY_SQL = """
INSERT INTO adoption_monthly (tenant_id, month, active_members, sessions)
SELECT a.tenant_id, a.month, a.active, a.active * 40
FROM (
    SELECT s.tenant_id, m.month::date AS month,
           (s.members * (0.5 + 0.4 * random()))::int AS active
    FROM (SELECT tenant_id, sum(size)::int AS members FROM bench_branch_sizes GROUP BY 1) s
    CROSS JOIN generate_series(date_trunc('month', current_date) - interval '4 months',
                               date_trunc('month', current_date), interval '1 month') AS m(month)
    OFFSET 0
) a
"""


# The demo stages the handbook tenant by tenant; the nation has no rollout configuration, so
# every feature is on there. Overrides put the demo's tenants in the same state.
FEATURES_ON_SQL = """
INSERT INTO flag_overrides (province_id, tenant_id, flag_key, variant, reason, updated_by,
                            updated_at)
SELECT t.province_id, t.id, f.key, 'on', 'every feature on, as in the nation', 'bench', now()
FROM tenants t JOIN flags f ON f.province_id = t.province_id
ON CONFLICT DO NOTHING
"""


async def superuser(database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=HOST, port=PG_PORT, user=PG_SUPERUSER, database=database, timeout=10
    )


async def generate_nation(database: str, plan: NationPlan) -> None:
    """Write the plan's rows; members, meetings and notices generated by PostgreSQL."""
    conn = await superuser(database)
    try:
        # Row triggers off while loading (foreign keys hold by construction); the member
        # counters they would keep are filled by COUNTS_SQL.
        await conn.execute("SET session_replication_role = replica")
        await _copy_hierarchy(conn, plan)
        await _insert_members(conn, plan)
        for label, sql in (
            ("meetings", MEETINGS_SQL),
            ("tenant notices", TENANT_NOTICES_SQL),
            ("branch notices", BRANCH_NOTICES_SQL),
            ("member counts", COUNTS_SQL),
            ("daily rollups", DAILY_SQL),
            ("monthly rollups", MONTHLY_SQL),
        ):
            await _timed(label, conn.execute(sql))
        await _timed("ANALYZE", conn.execute("ANALYZE"))
    finally:
        await conn.close()


async def _timed(label: str, work: Any) -> Any:
    started = time.monotonic()
    result = await work
    print(f"  {label}: {str(result)[:40]} in {time.monotonic() - started:.1f} s", flush=True)
    return result


async def _copy_hierarchy(conn: asyncpg.Connection, plan: NationPlan) -> None:
    await conn.copy_records_to_table("provinces", records=plan.provinces)
    await conn.copy_records_to_table("tenants", records=plan.tenants)
    await conn.copy_records_to_table("organisations", records=plan.organisations)
    await conn.copy_records_to_table("branches", records=plan.branches)
    await conn.execute(
        "CREATE TEMP TABLE bench_branch_sizes (tenant_id text, branch_id uuid, size int)"
    )
    await conn.copy_records_to_table("bench_branch_sizes", records=plan.branch_sizes)
    print(
        f"  copied {len(plan.provinces)} provinces, {len(plan.tenants)} tenants, "
        f"{len(plan.organisations)} organisations, {len(plan.branches)} branches",
        flush=True,
    )


async def _insert_members(conn: asyncpg.Connection, plan: NationPlan) -> None:
    """Members in batches of tenants, so that progress shows."""
    arrays = _name_arrays()
    slugs = [t[0] for t in plan.tenants]
    started, done, batch = time.monotonic(), 0, 70
    for first in range(0, len(slugs), batch):
        status = await conn.execute(MEMBERS_SQL, *arrays, slugs[first : first + batch])
        done += int(status.split()[-1])
        print(f"  members: {done:,} in {time.monotonic() - started:.0f} s", flush=True)


# --- databases and gateways -----------------------------------------------------------------


def app_env(database: str, args: argparse.Namespace) -> dict[str, str]:
    return clean_env(
        {
            "PILOTGRAPH_DATABASE_URL": pg_url(database, APP_ROLE),
            "PILOTGRAPH_ENVIRONMENT": "development",
            "PILOTGRAPH_LOG_LEVEL": "warning",
            "PILOTGRAPH_METRICS_PORT": str(free_port()),
            "PILOTGRAPH_PLANNED_OPERATIONS": "false" if args.generic else "true",
        }
    )


async def migrate(database: str, args: argparse.Namespace) -> None:
    admin = clean_env({"PILOTGRAPH_DATABASE_URL": pg_url(database, PG_SUPERUSER)})
    await run_cli(["db", "upgrade"], admin, timeout_s=300)
    await run_cli(["db", "create-app-role", "--name", APP_ROLE], admin, timeout_s=60)


async def load_demo(database: str, args: argparse.Namespace) -> None:
    started = time.monotonic()
    await run_cli(["demo", "load"], app_env(database, args), timeout_s=1200)
    print(f"demo loaded in {time.monotonic() - started:.1f} s", flush=True)
    conn = await superuser(database)
    try:
        await conn.execute(FEATURES_ON_SQL)
    finally:
        await conn.close()


def start_gateway(name: str, database: str, args: argparse.Namespace, log_dir: Path) -> Server:
    port = free_port()
    argv = [str(BIN / "pilotgraph"), "serve", "--host", HOST, "--port", str(port)]
    argv += ["--workers", str(args.workers)]
    return start_server(name, argv, app_env(database, args), log_dir, port)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return math.nan


def workers_rss_mib(server: Server) -> list[float]:
    """VmRSS of each worker process (uvicorn's spawned children; the process itself if one)."""
    pid = server.process.pid
    workers = [
        child
        for child in _children(pid)
        if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]
    return [_rss_mib(p) for p in (workers or [pid])]


async def settled_rss_mib(server: Server, workers: int, timeout_s: float = 90.0) -> list[float]:
    """Each worker's VmRSS once all have started: ``/readyz`` answers from the first worker
    ready, so wait until every worker's RSS holds still (±1 MiB over 2 s) or time runs out."""
    deadline, last = time.monotonic() + timeout_s, workers_rss_mib(server)
    while time.monotonic() < deadline:
        await asyncio.sleep(2)
        now = workers_rss_mib(server)
        if len(now) == workers and all(abs(a - b) <= 1 for a, b in zip(now, last, strict=False)):
            return now
        last = now
    return last


# --- load -----------------------------------------------------------------------------------

Request = tuple[bytes, dict[str, str]]


@dataclass
class Samples:
    latencies_s: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


def manifest_hash(name: str) -> str:
    for operation in json.loads(MANIFEST.read_text())["operations"]:
        if operation["name"] == name:
            return str(operation["id"])
    raise BenchError(f"no operation {name} in {MANIFEST}")


def by_hash(name: str, variables: dict[str, Any], token: str) -> Request:
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": manifest_hash(name)}}
    body = {"operationName": name, "variables": variables, "extensions": persisted}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return json.dumps(body).encode(), headers


def problem(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    payload = response.json()
    if payload.get("errors"):
        return f"errors: {json.dumps(payload['errors'], ensure_ascii=False)[:200]}"
    if not payload.get("data"):
        return "no data"
    if "me" in payload["data"] and payload["data"]["me"] is None:
        return "me is null"
    return None


async def send(client: httpx.AsyncClient, url: str, steps: Sequence[Request]) -> str | None:
    for body, headers in steps:
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
        if (found := problem(response)) is not None:
            return found
    return None


async def drive(
    client: httpx.AsyncClient, url: str, pool: Sequence[Sequence[Request]], args: Any, s: float
) -> Samples:
    """``args.concurrency`` clients, each sending a random item of ``pool`` when the last one
    answered, for ``s`` seconds."""
    samples, deadline = Samples(), time.perf_counter() + s
    rng = random.Random()

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            found = await send(client, url, rng.choice(pool))
            samples.latencies_s.append(time.perf_counter() - start)
            if found is not None:
                samples.failures[found] += 1

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return samples


@dataclass(frozen=True)
class Target:
    """One gateway and what to send it."""

    name: str
    url: str
    pool: list[list[Request]]


async def alternate(targets: Sequence[Target], args: argparse.Namespace) -> list[Samples]:
    """Warm each target up, then drive them in turn, block after block (A B A B …)."""
    limits = httpx.Limits(max_connections=args.concurrency)
    results = [Samples() for _ in targets]
    async with httpx.AsyncClient(limits=limits, timeout=30.0, trust_env=False) as client:
        for target in targets:
            await drive(client, target.url, target.pool, args, args.warmup)
        blocks = max(1, round(args.duration / args.block))
        for _ in range(blocks):
            for target, total in zip(targets, results, strict=True):
                block = await drive(client, target.url, target.pool, args, args.block)
                total.latencies_s += block.latencies_s
                total.failures.update(block.failures)
    return results


# --- who asks -------------------------------------------------------------------------------


def _token(subject: str, role: str, tenant: str | None, province: str | None) -> str:
    from gateway.auth import issue_development_token
    from gateway.settings import Settings
    from tenants.types import Role

    settings = Settings(environment="development")
    return issue_development_token(
        settings, subject=subject, roles=[Role(role)], tenant=tenant, province=province
    )


async def random_members(database: str, count: int, provinces: Sequence[str]) -> list[Any]:
    """About ``count`` random members of random tenants of ``provinces``."""
    conn = await superuser(database)
    try:
        total = await conn.fetchval("SELECT count(*) FROM members")
        share = min(100.0, 100.0 * count * 20 / max(1, total))
        rows = await conn.fetch(
            f"SELECT m.tenant_id, m.id FROM members m TABLESAMPLE BERNOULLI ({share:.6f}) "
            "JOIN tenants t ON t.id = m.tenant_id WHERE t.province_id = ANY($1::text[])",
            list(provinces),
        )
    finally:
        await conn.close()
    return random.Random(7).sample(list(rows), min(count, len(rows)))


async def home_pool(server: Server, database: str, args: argparse.Namespace) -> list[Any]:
    """Home requests of random members whose home answers (the feature may be off for some
    tenants: those are left out and counted)."""
    provinces = ["ninh-binh"] if database.startswith("bench_demo") else await _provinces(database)
    pool, skipped, url = [], Counter[str](), f"{server.base_url}/graphql"
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
        for tenant, member in await random_members(database, args.members, provinces):
            steps = [by_hash("Home", {}, _token(str(member), "member", tenant, None))]
            if (found := await send(client, url, steps)) is None:
                pool.append((tenant, steps))
            else:
                skipped[found[:60]] += 1
    tenants = len({tenant for tenant, _ in pool})
    print(f"  {server.name}: {len(pool)} members of {tenants} tenants; left out {dict(skipped)}")
    if not pool:
        raise BenchError(f"{server.name}: no member's home answers")
    return [steps for _, steps in pool]


async def _provinces(database: str) -> list[str]:
    conn = await superuser(database)
    try:
        return [r["id"] for r in await conn.fetch("SELECT id FROM provinces")]
    finally:
        await conn.close()


def dashboard_window() -> dict[str, str]:
    """The last three whole months."""
    first_of_month = dt.date.today().replace(day=1)
    start = (first_of_month - dt.timedelta(days=85)).replace(day=1)
    return {"from": start.isoformat(), "to": (first_of_month - dt.timedelta(days=1)).isoformat()}


async def dashboard_pool(database: str, provinces: Sequence[str]) -> list[list[Request]]:
    """Per province: the console's ``ProvinceTenants``, then ``AdoptionByTenant`` of them."""
    conn = await superuser(database)
    try:
        rows = await conn.fetch(
            "SELECT province_id, array_agg(id ORDER BY id) AS ids FROM tenants "
            "WHERE province_id = ANY($1::text[]) GROUP BY province_id",
            list(provinces),
        )
    finally:
        await conn.close()
    window, pool = dashboard_window(), []
    for row in rows:
        token = _token("province_admin@province", "province_admin", None, row["province_id"])
        tenants = {"tenants": list(row["ids"]), **window}
        pool.append(
            [by_hash("ProvinceTenants", window, token), by_hash("AdoptionByTenant", tenants, token)]
        )
    return pool


# --- EXPLAIN --------------------------------------------------------------------------------


IN_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar("in_request", default=False)


def capturing_app() -> Any:
    """The gateway's app, writing each statement a ``/graphql`` request sends (not the
    background tasks') and its parameters to the file named by ``PILOTGRAPH_BENCH_CAPTURE``."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from gateway.app import serve_app

    out, inner = Path(os.environ[CAPTURE_ENV]), serve_app()

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if IN_REQUEST.get():
            with out.open("ab") as f:
                pickle.dump((statement, tuple(params or ())), f)

    event.listen(Engine, "before_cursor_execute", capture)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        token = IN_REQUEST.set(scope["type"] == "http" and scope["path"] == "/graphql")
        try:
            await inner(scope, receive, send)
        finally:
            IN_REQUEST.reset(token)

    return app


async def capture_home(
    database: str, request: Sequence[Request], args: argparse.Namespace, log_dir: Path
) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements a gateway runs for one member home (its second one: caches warm)."""
    path, port = log_dir / "statements.pickle", free_port()
    env = {**app_env(database, args), CAPTURE_ENV: str(path)}
    argv = [sys.executable, "-m", "uvicorn", "bench.national:capturing_app", "--factory"]
    argv += ["--app-dir", str(REPO_ROOT), "--host", HOST, "--port", str(port)]
    server = start_server("capture", [*argv, "--log-level", "warning"], env, log_dir, port)
    try:
        await wait_ready(server, "/readyz", timeout_s=120)
        async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
            await send(client, f"{server.base_url}/graphql", request)
            path.unlink(missing_ok=True)
            if (found := await send(client, f"{server.base_url}/graphql", request)) is not None:
                raise BenchError(f"capture: {found}")
    finally:
        stop_server(server)
    captured = []
    with path.open("rb") as f:
        while True:
            try:
                captured.append(pickle.load(f))  # noqa: S301 - the file this run wrote
            except EOFError:
                return captured


def _explainable(statement: str) -> bool:
    head = statement.lstrip().upper()
    return head.startswith(("SELECT", "WITH")) and "SET_CONFIG" not in head


async def explain(database: str, captured: Sequence[tuple[str, tuple[Any, ...]]]) -> list[str]:
    """Replay the captured statements in one transaction as the application role: settings
    as they were, each query under ``EXPLAIN (ANALYZE, BUFFERS)``."""
    conn = await asyncpg.connect(host=HOST, port=PG_PORT, user=APP_ROLE, database=database)
    plans = []
    try:
        async with conn.transaction():
            for statement, params in captured:
                if not _explainable(statement):
                    if statement.lstrip().upper().startswith(("SELECT", "SET")):
                        await conn.execute(statement, *params) if params else await conn.execute(
                            statement
                        )
                    continue
                rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
                plan = "\n".join(r[0] for r in rows)
                plans.append(f"{' '.join(statement.split())}\n{plan}")
    finally:
        await conn.close()
    return plans


# --- report ---------------------------------------------------------------------------------


def latency_row(name: str, samples: Samples, seconds: float) -> list[str]:
    ordered = sorted(samples.latencies_s)
    return [
        name,
        str(len(ordered)),
        f"{len(ordered) / seconds:.0f}",
        f"{percentile(ordered, 0.5) * 1000:.1f}",
        f"{percentile(ordered, 0.99) * 1000:.1f}",
        str(sum(samples.failures.values())),
    ]


def report_pair(title: str, names: Sequence[str], results: Sequence[Samples], args: Any) -> float:
    """Print a table of the two sides; the p99 ratio second / first."""
    header = ["side", "requests", "req/s", "p50 ms", "p99 ms", "failures"]
    rows = [latency_row(n, r, args.duration) for n, r in zip(names, results, strict=True)]
    print(f"\n{title} ({args.concurrency} clients, {args.duration:.0f} s per side)")
    print(format_table(header, rows))
    for name, result in zip(names, results, strict=True):
        for failure, count in result.failures.most_common(3):
            print(f"  {name} failure ×{count}: {failure}")
    p99 = [percentile(sorted(r.latencies_s), 0.99) for r in results]
    ratio = p99[1] / p99[0] if p99[0] else math.nan
    print(f"  p99 {names[1]} / {names[0]}: {ratio:.2f}")
    return ratio


def uptime() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


# --- main -----------------------------------------------------------------------------------


async def build(args: argparse.Namespace, demo: str, nation: str) -> None:
    members = round(FULL_MEMBERS * args.scale)
    for database in (demo, nation):
        await create_database(database)
        await migrate(database, args)
    started = time.monotonic()
    plan = plan_nation(members, args.seed)
    print(f"planned {len(plan.branch_sizes):,} branches in {time.monotonic() - started:.1f} s")
    await generate_nation(nation, plan)
    print(f"nation generated in {time.monotonic() - started:.0f} s ({members:,} members)")
    await load_demo(demo, args)
    conn = await superuser(nation)
    try:
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    print(f"national database: {size}", flush=True)


async def measure(args: argparse.Namespace, demo: str, nation: str, log_dir: Path) -> bool:
    gateways = [start_gateway("demo", demo, args, log_dir)]
    gateways.append(start_gateway("national", nation, args, log_dir))
    try:
        for server in gateways:
            await wait_ready(server, "/readyz", timeout_s=180)
        rss_start = {g.name: await settled_rss_mib(g, args.workers) for g in gateways}
        homes = [await home_pool(g, d, args) for g, d in zip(gateways, (demo, nation), strict=True)]
        targets = [
            Target(g.name, f"{g.base_url}/graphql", p) for g, p in zip(gateways, homes, strict=True)
        ]
        home = await alternate(targets, args)
        home_ratio = report_pair("member home", ["demo", "national"], home, args)
        provinces = await _provinces(nation)
        boards = [
            await dashboard_pool(demo, ["ninh-binh"]),
            await dashboard_pool(nation, provinces),
        ]
        targets = [Target(t.name, t.url, b) for t, b in zip(targets, boards, strict=True)]
        board = await alternate(targets, args)
        report_pair("province dashboard", ["demo", "national"], board, args)
        rss_after = {g.name: workers_rss_mib(g) for g in gateways}
    finally:
        for server in gateways:
            stop_server(server)
    ok = report_rss(rss_start, rss_after, args) and home_ratio <= P99_LIMIT_RATIO
    await report_plans(nation, homes[1][0], args, log_dir)
    failures = sum(sum(s.failures.values()) for s in (*home, *board))
    return ok and failures == 0


def report_rss(start: dict[str, list[float]], after: dict[str, list[float]], args: Any) -> bool:
    print(f"\nVmRSS per worker, MiB ({args.workers} workers; target ≤ {RSS_LIMIT_MIB:.0f})")
    for name in start:
        print(f"  {name}: after start {_mibs(start[name])}; after the load {_mibs(after[name])}")
    return max(after["national"] + start["national"]) <= RSS_LIMIT_MIB


def _mibs(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


async def report_plans(nation: str, request: Sequence[Request], args: Any, log_dir: Path) -> None:
    captured = await capture_home(nation, request, args, log_dir)
    print(f"\nthe member home ran {len(captured)} statements; EXPLAIN of its queries:")
    for plan in await explain(nation, captured):
        print(f"\n{plan}")


async def run(args: argparse.Namespace) -> int:
    print(await machine_summary())
    print(f"load average at start: {uptime()}")
    demo, nation = fresh_db_name("bench_demo"), fresh_db_name("bench_nation")
    if args.reuse:
        demo, nation = args.reuse
    try:
        with tempfile.TemporaryDirectory(prefix="pilotgraph-national-") as tmp:
            if not args.reuse:
                await build(args, demo, nation)
            ok = await measure(args, demo, nation, Path(tmp))
    finally:
        if args.keep_db:
            print(f"kept databases {demo} and {nation}")
        else:
            for database in (demo, nation):
                await drop_database(database)
    print(f"\nload average at end: {uptime()}")
    print("targets met" if ok else "TARGETS MISSED or requests failed")
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of 5,000,000 members")
    parser.add_argument("--workers", type=int, default=2, help="gateway worker processes")
    parser.add_argument("--members", type=int, default=300, help="random members per database")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per side")
    parser.add_argument("--block", type=float, default=5.0, help="seconds per block")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--generic", action="store_true", help="the generic path, not planned")
    parser.add_argument("--keep-db", action="store_true", help="keep both databases")
    parser.add_argument(
        "--reuse",
        nargs=2,
        metavar=("DEMO", "NATION"),
        help="measure two databases a run kept (--keep-db) instead of building new ones",
    )
    return parser.parse_args()


async def main() -> int:
    task = asyncio.current_task()
    assert task is not None
    cancel_on_signals(task)
    return await run(parse_args())


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
