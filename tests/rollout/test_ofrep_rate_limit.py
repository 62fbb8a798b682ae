"""OFREP behind the edge rate limits: 429 with Retry-After, as the spec asks."""

from __future__ import annotations

import pytest

from gateway.edge.config import EdgeSettings, RateLimit
from tenants.types import Role
from tests import world
from tests.conftest import make_settings

ONE = "/ofrep/v1/evaluate/flags/{key}"


@pytest.fixture
def member(token, client_for):
    return client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))


@pytest.fixture
def settings(database):
    """Rate limits on, one request per member before the bucket is empty."""
    edge = EdgeSettings(
        rate_limits_enabled=True, rate_limits={"default": RateLimit(per_second=0.1, burst=1)}
    )
    return make_settings(database, edge=edge)


async def test_too_many_requests_is_429_with_retry_after(member):
    # when
    first = await member.post(ONE.format(key="handbook"), json={"context": {}})
    second = await member.post(ONE.format(key="handbook"), json={"context": {}})
    # then
    assert first.status_code == 200
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1
