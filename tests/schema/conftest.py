"""Fixtures the rollout's schema tests share: the five-tenant plan and the province admins."""

from __future__ import annotations

import pytest

from tenants.types import Role
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, SECOND_ADMIN, make_plan


@pytest.fixture
async def plan(gateway):
    """The five-tenant plan, not started, and a KPI source whose gates pass."""
    gateway.kpis = FakeKpiSource()
    async with gateway.sessionmaker() as session:
        await make_plan(session)
    await gateway.flags.reload(gateway.sessionmaker)
    return gateway


@pytest.fixture
def admin(token, client_for):
    """A province admin of the world's province."""
    return client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN))


@pytest.fixture
def second_admin(token, client_for):
    """Another province admin of the same province (four eyes)."""
    return client_for(token(Role.PROVINCE_ADMIN, subject=SECOND_ADMIN))
