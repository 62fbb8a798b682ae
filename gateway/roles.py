"""The application's PostgreSQL role: it logs in, owns nothing, and never bypasses RLS."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.dialect import is_postgres
from db.engine import make_engine

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# SECURITY DEFINER functions the application calls; PUBLIC may not execute them (0006, 0007,
# 0009).
APP_FUNCTIONS = (
    "adoption_ensure_partitions(date, date)",
    "app_analyze(text[])",
    "adoption_drop_partitions(timestamp with time zone, boolean)",
)


async def create_app_role(admin_url: str, *, name: str, password: str | None) -> None:
    """Create or update ``name`` and grant it DML on the schema's tables (PostgreSQL only)."""
    if not is_postgres(admin_url):
        return
    if not ROLE_NAME.match(name):
        raise ValueError(f"invalid role name {name!r}")
    engine = make_engine(admin_url)
    try:
        async with engine.begin() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}
            )
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(
                text(f"{verb} ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
            )
            if password is not None:
                quoted = password.replace("'", "''")
                await conn.execute(text(f"ALTER ROLE {name} PASSWORD '{quoted}'"))
            database = await conn.scalar(text("SELECT current_database()"))
            await conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {name}'))
            await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
            await conn.execute(
                text(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"
                )
            )
            await conn.execute(
                text(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE"
                    f" ON TABLES TO {name}"
                )
            )
            await _grant_functions(conn, name)
    finally:
        await engine.dispose()


async def _grant_functions(conn: AsyncConnection, name: str) -> None:
    """Grant ``name`` each of :data:`APP_FUNCTIONS` the migrations have created."""
    for function in APP_FUNCTIONS:
        exists = await conn.scalar(text("SELECT to_regprocedure(:f)"), {"f": function})
        if exists is not None:
            await conn.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {name}"))
