"""``GET /v1/adoption.csv?by=wave&flag=…``: one row per wave and period, the figures of
``adoptionByWave``; for the roles that read it; bad parameters answer a coded 400."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.state import GatewayState
from tenants.types import Role
from tests.conftest import Client, TokenFactory
from tests.graphql import gql
from tests.rollout.plan_world import make_plan
from tests.world import KIM_SON, OTHER_PROVINCE, YEN_MO

PERIOD = "from=2026-11-01&to=2026-11-30"
WAVES = f"/v1/adoption.csv?{PERIOD}&by=wave&flag=handbook"
HEADER = (
    "wave,wave_name,tenants,start,end,members,installs,activated_members,activation_rate,"
    "new_installs,new_activations,active_members,uses,stickiness"
)
BY_WAVE = """
query($granularity: Granularity!) {
  adoptionByWave(
    flag: "handbook", from: "2026-11-01", to: "2026-11-30", granularity: $granularity
  ) {
    position name tenants
    points { start end members installs activatedMembers activationRate newInstalls
             newActivations activeMembers uses stickiness }
  }
}
"""


@pytest.fixture
async def plan(gateway: GatewayState) -> None:
    """Yen Mo (pilot) → Kim Son (wave 1) → Hoa Lu, Nho Quan, Gia Vien (the rest)."""
    async with gateway.sessionmaker() as session:
        await make_plan(session)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _rows(waves: list[dict[str, Any]]) -> list[str]:
    """``adoptionByWave``'s answer as the CSV's lines are expected to be."""
    return [
        ",".join(
            str(v)
            for v in (
                w["position"],
                w["name"],
                " ".join(w["tenants"]),
                p["start"],
                p["end"],
                p["members"],
                p["installs"],
                p["activatedMembers"],
                _ratio(p["activationRate"]),
                p["newInstalls"],
                p["newActivations"],
                p["activeMembers"],
                p["uses"],
                _ratio(p["stickiness"]),
            )
        )
        for w in waves
        for p in w["points"]
    ]


@pytest.mark.usefixtures("activity", "plan")
@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR])
@pytest.mark.parametrize("granularity", ["month", "week"])
async def test_wave_rows_equal_adoption_by_wave(
    client_for: Client, token: TokenFactory, role: Role, granularity: str
) -> None:
    # given: a province role, and the GraphQL answer for the same flag and period
    client = client_for(token=token(role))
    _, body = await gql(client, BY_WAVE, {"granularity": granularity.upper()})
    waves = body["data"]["adoptionByWave"]
    # when
    response = await client.get(f"{WAVES}&granularity={granularity}")
    # then: a row per wave and period, each with the GraphQL figures
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="adoption-waves-handbook-2026-11-01-2026-11-30.csv"'
    )
    lines = response.text.splitlines()
    assert lines[0] == HEADER
    assert lines[1:] == _rows(waves)
    assert [w["position"] for w in waves] == [0, 1, 2]
    assert len(lines) == 1 + 3 * len(waves[0]["points"])


@pytest.mark.usefixtures("activity", "plan")
async def test_one_waves_rows(client_for: Client, token: TokenFactory) -> None:
    # given
    client = client_for(token=token(Role.AUDITOR))
    _, body = await gql(client, BY_WAVE, {"granularity": "MONTH"})
    # when
    response = await client.get(f"{WAVES}&wave=1")
    # then: Kim Son's wave only, as GraphQL has it (one member of two activated)
    assert response.status_code == 200, response.text
    assert response.text.splitlines() == [HEADER, *_rows(body["data"]["adoptionByWave"][1:2])]
    assert response.text.splitlines()[1] == (
        "1,wave 1,kim-son,2026-11-01,2026-11-30,2,0,1,0.5000,0,1,1,0,0.0333"
    )


@pytest.mark.usefixtures("plan")
@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"{PERIOD}&by=district", "'by' is tenant or wave."),
        (f"{PERIOD}&by=wave", "by=wave needs 'flag', the plan's flag key."),
        (f"{PERIOD}&by=wave&flag=", "by=wave needs 'flag', the plan's flag key."),
        (
            f"{PERIOD}&by=wave&flag=handbook&tenant={YEN_MO}",
            "by=wave takes no 'tenant': a wave is its tenants.",
        ),
        (f"{PERIOD}&by=wave&flag=handbook&wave=-1", "'wave' is a wave's position: 0, 1, 2…"),
        (f"{PERIOD}&by=wave&flag=handbook&wave=first", "'wave' is a wave's position: 0, 1, 2…"),
        (f"{PERIOD}&by=wave&flag=handbook&wave=3", "The plan of 'handbook' has no wave 3."),
        (f"{PERIOD}&flag=handbook", "'flag' and 'wave' go with by=wave."),
        (
            "from=2026-11-01&by=wave&flag=handbook",
            "'from' and 'to' are required local days (YYYY-MM-DD).",
        ),
    ],
)
async def test_bad_parameters_answer_a_coded_400(
    client_for: Client, token: TokenFactory, query: str, message: str
) -> None:
    # given
    client = client_for(token=token(Role.PROVINCE_ADMIN))
    # when
    response = await client.get(f"/v1/adoption.csv?{query}")
    # then
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]
    }


def _refusal(status: int, message: str, code: str) -> tuple[int, dict[str, Any]]:
    return status, {"message": message, "extensions": {"code": code}}


@pytest.mark.usefixtures("plan")
async def test_wave_export_refusals(client_for: Client, token: TokenFactory) -> None:
    # given: a tenant admin, a member, no token, and Ha Nam's auditor (no plan in Ha Nam)
    tenant_admin = client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO))
    member = client_for(token=token(Role.MEMBER, tenant=KIM_SON))
    other = client_for(token=token(Role.AUDITOR, province=OTHER_PROVINCE))
    # when
    answers = [await c.get(WAVES) for c in (tenant_admin, member, client_for(), other)]
    reversed_period = await client_for(token=token(Role.AUDITOR)).get(
        "/v1/adoption.csv?from=2026-11-30&to=2026-11-01&by=wave&flag=handbook"
    )
    # then: coded JSON, nothing of Ninh Binh's waves
    forbidden = _refusal(403, "Your role does not allow read province adoption.", "FORBIDDEN")
    assert [(a.status_code, a.json()["errors"][0]) for a in answers] == [
        forbidden,
        forbidden,
        _refusal(401, "Sign in: this field needs a bearer token.", "UNAUTHENTICATED"),
        _refusal(404, "The flag 'handbook' has no rollout plan.", "PLAN_NOT_FOUND"),
    ]
    assert (reversed_period.status_code, reversed_period.json()["errors"][0]["extensions"]) == (
        400,
        {"code": "INVALID_PERIOD"},
    )
