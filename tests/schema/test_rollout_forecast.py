"""``rollout(flag) { forecast }`` through HTTP: the dates, the reasons, and who may read them."""

from __future__ import annotations

import pytest

from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import KEY, make_plan
from tests.rollout.test_forecast import P, Q, curve

FORECAST = """
query($flag: String!) {
  rollout(flag: $flag) {
    status
    forecast {
      reason daysObserved
      fit { innovation imitation rmse points }
      waves { position sustainDays opens
        criteria { metric minimum date earliest latest reason } }
    }
  }
}
"""
START = "mutation($flag: String!) { startRollout(flag: $flag) { applied errors { code } } }"


@pytest.fixture
async def plan(gateway):
    """The five-tenant plan, not started; the pilot's activation follows a known curve."""
    gateway.kpis = FakeKpiSource(curves={world.YEN_MO: curve(45)})
    async with gateway.sessionmaker() as session:
        await make_plan(session)
    await gateway.flags.reload(gateway.sessionmaker)
    return gateway


async def test_a_running_plan_has_a_forecast_per_next_wave(plan, admin):
    # given
    _, started = await gql(admin, START, {"flag": KEY})
    assert started["data"]["startRollout"]["applied"] is True
    # when
    status, body = await gql(admin, FORECAST, {"flag": KEY})
    # then
    assert status == 200, body
    found = body["data"]["rollout"]["forecast"]
    assert found["reason"] is None
    assert found["daysObserved"] == 45
    assert found["fit"]["innovation"] == pytest.approx(P, rel=0.02)
    assert found["fit"]["imitation"] == pytest.approx(Q, rel=0.02)
    assert [w["position"] for w in found["waves"]] == [1, 2]
    activation, monthly = found["waves"][0]["criteria"]
    assert activation["metric"] == "activation_rate"
    assert activation["minimum"] == 0.9
    assert activation["reason"] is None
    assert activation["earliest"] <= activation["date"] <= activation["latest"]
    assert (monthly["date"], monthly["reason"]) == (None, "NOT_MODELLED")
    assert found["waves"][0]["sustainDays"] == 14


async def test_a_draft_plan_says_why_it_has_no_forecast(plan, admin):
    status, body = await gql(admin, FORECAST, {"flag": KEY})
    assert status == 200, body
    assert body["data"]["rollout"]["forecast"] == {
        "reason": "NOT_RUNNING",
        "daysObserved": 0,
        "fit": None,
        "waves": [],
    }


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BRANCH_SECRETARY])
async def test_members_cannot_read_the_forecast(plan, token, client_for, role):
    client = client_for(token(role, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    status, body = await gql(client, FORECAST, {"flag": KEY})
    assert status == 200
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None
