"""The application's PostgreSQL role: it logs in, owns nothing, and never bypasses RLS."""

from __future__ import annotations

import re

from sqlalchemy import text

from tenants.db import is_postgres, make_engine

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


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
    finally:
        await engine.dispose()
