"""A fresh PostgreSQL database with the demo province, copied from a template made once a day.

``pilotgraph demo load`` takes most of a minute (75,000 members, 360,000 app events). The first
run of the day loads it into a template database named after a hash of the code that shapes it
(migrations, the demo province, its rollout plan and events); every run then copies the template
(``CREATE DATABASE … TEMPLATE``, under a second) into a database of its own and drops it after.
The date is in the name because the demo's events and plan are placed relative to today.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from tests import databases

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("pilotgraph")
TEMPLATE_PREFIX = "pilotgraph_production_tpl_"
SHAPING = [
    "gateway/migrations",
    "tenants/demo",
    "tenants/handbook",
    "rollout/demo.py",
    "adoption/demo_events.py",
    "gateway/roles.py",
]


def template_name() -> str:
    """The template for today and for the code that shapes the demo database."""
    digest = hashlib.sha256(dt.datetime.now(dt.UTC).date().isoformat().encode())
    for entry in SHAPING:
        path = ROOT / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return TEMPLATE_PREFIX + digest.hexdigest()[:16]


async def _exists(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))


async def _build_template(name: str) -> None:
    """Migrate, grant the app role and load the demo as it, then rename into place."""
    building = await databases.create_postgres()
    env = {**os.environ, "PILOTGRAPH_DATABASE_URL": building.app_url}
    env.pop("PILOTGRAPH_ENVIRONMENT", None)
    await asyncio.to_thread(
        subprocess.run,
        [str(CLI), "demo", "load"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    conn = await databases.SHARED.connect()
    try:
        if await _exists(conn, name):  # another run built it meanwhile
            await conn.execute(f'DROP DATABASE "{building.name}" WITH (FORCE)')
            return
        await conn.execute(f'ALTER DATABASE "{building.name}" RENAME TO "{name}"')
        await _drop_stale_templates(conn, keep=name)
    finally:
        await conn.close()


async def _drop_stale_templates(conn: asyncpg.Connection, keep: str) -> None:
    rows = await conn.fetch(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2",
        TEMPLATE_PREFIX + "%",
        keep,
    )
    for row in rows:
        # one in use is being copied by another run right now; the next run drops it
        with contextlib.suppress(asyncpg.ObjectInUseError):
            await conn.execute(f'DROP DATABASE "{row["datname"]}"')


async def demo_database() -> databases.TestDatabase:
    """A database of its own, migrated, with the app role's grants and the demo loaded."""
    template = template_name()
    conn = await databases.SHARED.connect()
    try:
        missing = not await _exists(conn, template)
    finally:
        await conn.close()
    if missing:
        await _build_template(template)
    name = f"pilotgraph_test_{uuid.uuid4().hex[:10]}"
    conn = await databases.SHARED.connect()
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    server = databases.SHARED
    return databases.TestDatabase(
        "postgresql", server.url(name, databases.APP_ROLE), server.url(name), name
    )
