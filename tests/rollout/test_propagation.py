"""A flag change reaches other replicas: in-process on SQLite, LISTEN/NOTIFY between processes."""

from __future__ import annotations

import time

import httpx
import pytest
from pydantic import SecretStr

from db.broadcast import notify
from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.auth import issue_development_token
from gateway.settings import Settings
from rollout import flags
from rollout.flag_catalogue import FlagKey
from rollout.gates import NoAdoptionData
from rollout.models import FlagState
from rollout.runtime import RolloutRuntime
from rollout.snapshot import CHANNEL, FlagStore
from tenants.types import Role
from tests.rollout.server import running_gateway, wait_for
from tests.world import NOW, YEN_MO, YM_MEMBER_A

KEY = FlagKey.MEETINGS.value
FEATURES = "{ features { key enabled reason } }"


async def kill(maker, key=KEY):
    async with maker() as session:
        flag = await flags.ensure(
            session=session, province_id="ninh-binh", key=key, actor="ops", now=NOW
        )
        await flags.update(
            session=session,
            province_id="ninh-binh",
            key=key,
            expected_version=flag.version,
            actor="ops",
            reason="incident",
            now=NOW,
            state=FlagState.KILLED,
        )
        await session.commit()
        await notify(session, CHANNEL, key)


async def test_a_change_reaches_another_replica_store(fresh):
    # given: a "replica" with its own engine, store and runtime
    replica_engine, writer_engine = make_engine(fresh.app_url), make_engine(fresh.app_url)
    store = FlagStore()
    runtime = RolloutRuntime(
        replica_engine, make_sessionmaker(replica_engine), store, kpis=NoAdoptionData()
    )
    await runtime.start()
    before = store.snapshot_for("ninh-binh").flags[KEY].state
    # when
    await kill(make_sessionmaker(writer_engine))

    async def arrived():
        return store.snapshot_for("ninh-binh").flags[KEY].state == "killed"

    seen = await wait_for(arrived)
    await runtime.stop()
    await replica_engine.dispose()
    await writer_engine.dispose()
    # then
    assert (before, seen) == ("active", True)


async def test_a_change_reaches_another_gateway_process(fresh):
    if fresh.backend != "postgresql":
        pytest.skip("between processes the broadcast is PostgreSQL's LISTEN/NOTIFY")
    # given: a second gateway process on the same database
    settings = Settings(database_url=SecretStr(fresh.app_url))
    member = issue_development_token(
        settings, subject=str(YM_MEMBER_A), roles=[Role.MEMBER], tenant=YEN_MO
    )
    writer_engine = make_engine(fresh.app_url)
    headers = {"Authorization": f"Bearer {member}"}
    async with (
        running_gateway(fresh.app_url) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=headers) as client,
    ):

        async def meetings_enabled() -> bool:
            response = await client.post("/graphql", json={"query": FEATURES})
            features = {f["key"]: f for f in response.json()["data"]["features"]}
            return bool(features[KEY]["enabled"])

        before = await meetings_enabled()
        # when
        changed_at = time.monotonic()
        await kill(make_sessionmaker(writer_engine))

        async def off() -> bool:
            return not await meetings_enabled()

        seen = await wait_for(off, timeout_s=5)
        elapsed = time.monotonic() - changed_at
    await writer_engine.dispose()
    # then: well inside the periodic resync (30 s): the notification carried it
    assert (before, seen) == (True, True)
    assert elapsed < 2.0
