"""The request context: database work one call at a time, settled before the session closes."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from adoption.errors import AdoptionError
from rollout.errors import RolloutError
from schema import context as context_module
from schema.context import Context, RequestEnded
from tenants.errors import TenantsError
from tenants.models import Province
from tests import world


def _context(gateway) -> Context:
    return Context(
        request=None,
        response=None,
        session=gateway.sessionmaker(),
        principal=None,
        tenant=gateway.registry.get(world.YEN_MO),
        registry=gateway.registry,
        now=world.NOW,
        install_key=gateway.install_key,
        kpis=gateway.kpis,
    )


async def _select_one(*, session, tenant_id: str) -> int:
    return int((await session.execute(text("SELECT 1"))).scalar_one())


async def test_closing_waits_for_work_in_flight_then_refuses_more(gateway):
    # given: work started, its caller cancelled (a sibling field failed)
    context = _context(gateway)
    started = asyncio.Event()

    async def slow(*, session, tenant_id: str) -> int:
        started.set()
        await asyncio.sleep(0.1)
        return await _select_one(session=session, tenant_id=tenant_id)

    caller = asyncio.ensure_future(context.run(slow))
    await started.wait()
    caller.cancel()
    # when
    await context.close()
    # then: the work ran to its end before the session closed, and no more is taken
    assert not context._work
    with pytest.raises(RequestEnded, match="The request has ended"):
        await context.run(_select_one)


async def test_closing_cancels_work_stuck_past_the_grace(gateway, monkeypatch):
    # given
    monkeypatch.setattr(context_module, "CLOSE_GRACE_S", 0.05)
    context = _context(gateway)

    async def stuck(*, session, tenant_id: str) -> None:
        await asyncio.sleep(30)

    caller = asyncio.ensure_future(context.run(stuck))
    await asyncio.sleep(0.01)
    # when
    await asyncio.wait_for(context.close(), timeout=5)
    # then
    assert not context._work
    caller.cancel()


@pytest.mark.parametrize(
    "error",
    [
        TenantsError("The tenant refused."),
        RolloutError("The rollout refused."),
        AdoptionError("The batch was refused."),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_command_that_raises_an_expected_error_leaves_nothing_written(gateway, error):
    # given: a write that has begun, then refuses with its domain's expected error
    context = _context(gateway)

    async def half_written(*, session, tenant_id: str) -> None:
        await _select_one(session=session, tenant_id=tenant_id)
        session.add(Province(id="zz", name="Half written", timezone="Asia/Ho_Chi_Minh"))
        raise error

    # when
    with pytest.raises(type(error)) as raised:
        await context.command(half_written)
    # then: the same error reaches the caller, and the transaction was rolled back
    assert raised.value is error
    assert list(context.session.new) == []
    assert not context.session.in_transaction()
    await context.close()
