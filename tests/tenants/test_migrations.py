"""Migrations run from empty to head and back, identically on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect

from db.engine import make_engine
from gateway import migrate
from tenants.handbook.models import TENANT_OWNED_TABLES
from tests import databases


async def _tables(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        found = await conn.run_sync(
            lambda sync: {
                name: inspect(sync).get_pk_constraint(name)["constrained_columns"]
                for name in inspect(sync).get_table_names()
            }
        )
    await engine.dispose()
    return found


async def test_upgrade_from_empty_gives_keys_leading_with_tenant(database):
    # given: the session database was migrated from empty
    # when
    tables = await _tables(database.admin_url)
    # then
    for table in TENANT_OWNED_TABLES:
        assert tables[table][0] == "tenant_id", table
    assert tables["tenants"] == ["id"]
    assert "alembic_version" in tables


async def test_downgrade_to_base_and_upgrade_again(tmp_path):
    # given
    db = await databases.create_sqlite(tmp_path)
    # when
    await asyncio.to_thread(migrate.downgrade, db.admin_url, "base")
    emptied = await _tables(db.admin_url)
    await asyncio.to_thread(migrate.upgrade, db.admin_url)
    again = await _tables(db.admin_url)
    # then
    assert set(emptied) == {"alembic_version"}
    assert set(TENANT_OWNED_TABLES) <= set(again)
