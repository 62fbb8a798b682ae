"""The real OpenFeature SDK with the OFREP provider reads PilotGraph's flags from a gateway."""

from __future__ import annotations

import asyncio

import pytest
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import ErrorCode, Reason
from pydantic import SecretStr

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.auth import issue_development_token
from gateway.settings import Settings
from rollout.flag_catalogue import FlagKey
from tenants.types import Role
from tests.rollout.server import running_gateway, wait_for
from tests.rollout.test_propagation import kill
from tests.world import YEN_MO, YM_MEMBER_A

MEMBER = str(YM_MEMBER_A)


def _client(base_url: str, database_url: str):
    settings = Settings(database_url=SecretStr(database_url))
    token = issue_development_token(settings, subject=MEMBER, roles=[Role.MEMBER], tenant=YEN_MO)
    api.set_provider(
        OFREPProvider(base_url, headers_factory=lambda: {"Authorization": f"Bearer {token}"}),
        domain="pilotgraph-test",
    )
    return api.get_client("pilotgraph-test")


async def test_the_ofrep_provider_reads_flags(fresh):
    # given
    async with running_gateway(fresh.app_url) as base_url:
        client = _client(base_url, fresh.app_url)
        # when: the SDK's calls are blocking (requests): keep them off the event loop
        on = await asyncio.to_thread(client.get_boolean_details, FlagKey.HANDBOOK.value, False)
        targeted = await asyncio.to_thread(
            client.get_boolean_details,
            FlagKey.NOTICES.value,
            False,
            EvaluationContext(targeting_key=MEMBER),
        )
        missing = await asyncio.to_thread(client.get_boolean_details, "handbook.chat", False)
        impostor = await asyncio.to_thread(
            client.get_boolean_details,
            FlagKey.HANDBOOK.value,
            False,
            EvaluationContext(targeting_key="someone-else"),
        )
    # then
    assert (on.value, on.reason, on.variant) == (True, Reason.STATIC, "on")
    assert (targeted.value, targeted.reason) == (True, Reason.STATIC)
    assert (missing.value, missing.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
    assert (impostor.value, impostor.error_code) == (False, ErrorCode.INVALID_CONTEXT)


async def test_the_provider_sees_a_kill_on_postgresql(fresh):
    if fresh.backend != "postgresql":
        pytest.skip("another process's change reaches a SQLite gateway at its periodic resync")
    # given
    writer_engine = make_engine(fresh.app_url)
    async with running_gateway(fresh.app_url) as base_url:
        client = _client(base_url, fresh.app_url)
        # when
        await kill(make_sessionmaker(writer_engine), FlagKey.MEETINGS.value)

        async def killed() -> bool:
            details = await asyncio.to_thread(
                client.get_boolean_details, FlagKey.MEETINGS.value, True
            )
            return details.reason == Reason.DISABLED and details.value is False

        seen = await wait_for(killed)
    await writer_engine.dispose()
    # then
    assert seen
