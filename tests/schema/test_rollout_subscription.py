"""``featuresChanged``: the member's evaluations now, then on every change that alters them."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from pydantic import SecretStr

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.auth import issue_development_token
from gateway.settings import Settings
from rollout import flags
from rollout.flag_catalogue import FlagKey
from rollout.models import FlagState
from schema.context import Context
from schema.root import schema
from tenants.identity import Principal
from tenants.types import Role
from tests import world
from tests.rollout.server import running_gateway
from tests.rollout.test_propagation import kill

FEATURES_CHANGED = "subscription { featuresChanged { key enabled reason } }"


async def _kill(gateway, key: FlagKey, *, version: int = 1) -> None:
    async with gateway.sessionmaker() as session:
        await flags.update(
            session=session,
            province_id="ninh-binh",
            key=key.value,
            expected_version=version,
            actor="ops",
            reason="incident",
            now=world.NOW,
            state=FlagState.KILLED,
        )
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)


def _context(gateway, session, role=Role.MEMBER) -> Context:
    principal = Principal(
        subject=str(world.YM_MEMBER_A), roles=frozenset({role}), tenant=world.YEN_MO
    )
    return Context(
        request=None,
        response=None,
        session=session,
        principal=principal,
        tenant=gateway.registry.get(world.YEN_MO),
        registry=gateway.registry,
        now=world.NOW,
        install_key=gateway.install_key,
        kpis=gateway.kpis,
        flags=gateway.flags,
    )


async def test_pushes_now_and_after_a_change(gateway):
    # given
    async with gateway.sessionmaker() as session:
        stream = await schema.subscribe(FEATURES_CHANGED, context_value=_context(gateway, session))
        # when
        first = await anext(stream)
        await _kill(gateway, FlagKey.NOTICES)
        second = await asyncio.wait_for(anext(stream), timeout=5)
        await stream.aclose()
    # then
    assert first.errors is None
    assert [f["enabled"] for f in first.data["featuresChanged"]] == [True, True, True, True]
    notices = second.data["featuresChanged"][2]
    assert notices == {"key": "handbook.notices", "enabled": False, "reason": "DISABLED"}


async def test_needs_a_signed_in_principal(gateway):
    # given
    async with gateway.sessionmaker() as session:
        context = _context(gateway, session)
        context.principal = None
        # when
        stream = await schema.subscribe(FEATURES_CHANGED, context_value=context)
        result = await anext(stream)
    # then: refused before any value
    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == ["UNAUTHENTICATED"]


async def test_over_graphql_transport_ws_between_processes(database):
    if database.backend != "postgresql":
        pytest.skip("between processes the broadcast is PostgreSQL's LISTEN/NOTIFY")
    # given: a gateway process, and a member subscribed over graphql-transport-ws
    from tests import databases
    from tests.world import load_world

    db = await databases.create_postgres()
    engine = make_engine(db.app_url)
    await load_world(make_sessionmaker(engine))
    token = issue_development_token(
        Settings(database_url=SecretStr(db.app_url)),
        subject=str(world.YM_MEMBER_A),
        roles=[Role.MEMBER],
        tenant=world.YEN_MO,
    )
    try:
        async with running_gateway(db.app_url) as base_url:
            url = base_url.replace("http", "ws") + "/graphql"
            async with websockets.connect(
                url,
                subprotocols=["graphql-transport-ws"],
                additional_headers={"Authorization": f"Bearer {token}"},
            ) as ws:
                await ws.send(json.dumps({"type": "connection_init"}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(
                    json.dumps(
                        {"id": "1", "type": "subscribe", "payload": {"query": FEATURES_CHANGED}}
                    )
                )
                first = json.loads(await asyncio.wait_for(ws.recv(), 5))
                # when
                await kill(make_sessionmaker(engine), FlagKey.MEETINGS.value)
                second = json.loads(await asyncio.wait_for(ws.recv(), 5))
    finally:
        await engine.dispose()
        await databases.drop_postgres(db)
    # then
    assert first["type"] == "next"
    assert first["payload"]["data"]["featuresChanged"][1]["enabled"] is True
    assert second["payload"]["data"]["featuresChanged"][1] == {
        "key": "handbook.meetings",
        "enabled": False,
        "reason": "DISABLED",
    }
