"""The tenant registry is an in-process snapshot, reloaded on every replica when tenants change."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete

from db.broadcast import Listener
from db.engine import make_engine
from db.sessions import make_sessionmaker
from tenants import service
from tenants.models import Tenant
from tenants.registry import TenantRegistry
from tenants.service import CHANNEL


async def _wait_for(predicate, seconds=5.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_lookups_do_not_touch_the_database(database, statements):
    # given
    engine = make_engine(database.app_url)
    registry = TenantRegistry()
    await registry.reload(make_sessionmaker(engine))
    await engine.dispose()
    statements.count = 0
    # when
    found = [registry.get("yen-mo") for _ in range(1_000)]
    # then
    assert statements.count == 0
    assert found[0] is not None
    assert found[0].province_name == "Ninh Bình"


async def test_new_tenant_reaches_another_process_registry(database):
    # given: a "replica" with its own engine, registry and listener
    replica_engine, writer_engine = make_engine(database.app_url), make_engine(database.app_url)
    replica_sessions = make_sessionmaker(replica_engine)
    registry = TenantRegistry()
    await registry.reload(replica_sessions)
    listener = Listener(replica_engine, CHANNEL, lambda _p: registry.reload(replica_sessions))
    await listener.start()
    await _wait_for(lambda: registry.loads >= 2 or database.backend == "sqlite")
    slug = f"hoa-lu-{database.backend}"
    # when: another "replica" registers a tenant
    async with make_sessionmaker(writer_engine)() as session:
        await service.register_tenant(
            session=session,
            tenant_id=slug,
            province_id="ninh-binh",
            name="Đảng bộ huyện Hoa Lư",
            kind="district",
        )
    arrived = await _wait_for(lambda: registry.get(slug) is not None)
    async with writer_engine.begin() as conn:  # leave the shared database as it was
        await conn.execute(delete(Tenant).where(Tenant.id == slug))
    await listener.stop()
    await replica_engine.dispose()
    await writer_engine.dispose()
    # then
    assert arrived
    assert registry.get(slug).name == "Đảng bộ huyện Hoa Lư"
