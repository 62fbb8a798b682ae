"""The gateway wires the domains together: rollout's gates read adoption's KPIs."""

from __future__ import annotations

from adoption.kpi_source import AdoptionKpis
from gateway.app import build_state
from gateway.state import kpi_source
from tenants.types import Role
from tests import world
from tests.graphql import gql
from tests.rollout.plan_world import ADMIN, KEY, make_plan

GATES = """
query($flag: String!) {
  rollout(flag: $flag) {
    waves { position gate { passed results { tenant metric minimum current passed } } }
  }
}
"""


async def test_the_gateway_hands_adoptions_kpis_to_rollout(settings):
    # given / when
    state = build_state(settings)
    # then
    try:
        assert isinstance(state.kpis, AdoptionKpis)
        assert isinstance(kpi_source(), AdoptionKpis)
    finally:
        await state.engine.dispose()


async def test_a_gate_read_over_graphql_is_judged_on_adoption_data(gateway, token, client_for):
    # given: the five-tenant plan, the gateway's own KPI source, and no app events yet
    async with gateway.sessionmaker() as session:
        await make_plan(session)
    admin = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN))
    # when
    status, body = await gql(admin, GATES, {"flag": KEY})
    # then: wave 1's gate is judged on Yen Mo's members (none activated), not "no adoption data"
    assert status == 200, body
    wave_1 = body["data"]["rollout"]["waves"][1]
    assert wave_1["gate"] == {
        "passed": False,
        "results": [
            {
                "tenant": world.YEN_MO,
                "metric": "activation_rate",
                "minimum": 0.9,
                "current": 0.0,
                "passed": False,
            },
            {
                "tenant": world.YEN_MO,
                "metric": "monthly_active_rate",
                "minimum": 0.8,
                "current": 0.0,
                "passed": False,
            },
        ],
    }
