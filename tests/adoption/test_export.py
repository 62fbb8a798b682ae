"""The CSV export and the Prometheus gauges read the same KPIs, with the same permissions."""

from __future__ import annotations

import pytest

from gateway.adoption_metrics import refresh
from gateway.state import GatewayState
from tenants.types import Role
from tests.conftest import Client, TokenFactory
from tests.metrics import scrape
from tests.world import KIM_SON, YEN_MO

CSV = "/v1/adoption.csv?from=2026-11-01&to=2026-11-30"
HEADER = (
    "tenant,start,end,members,installs,activated_members,activation_rate,new_installs,"
    "new_activations,active_members,uses,stickiness"
)


@pytest.mark.usefixtures("activity")
async def test_province_csv_has_a_row_per_tenant(client_for: Client, token: TokenFactory) -> None:
    # given
    auditor = client_for(token=token(Role.AUDITOR))

    # when
    response = await auditor.get(CSV)

    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.splitlines() == [
        HEADER,
        "kim-son,2026-11-01,2026-11-30,2,0,1,0.5000,0,1,1,0,0.0333",
        "yen-mo,2026-11-01,2026-11-30,5,0,1,0.2000,0,1,2,3,0.0333",
    ]


@pytest.mark.usefixtures("activity")
async def test_the_csv_is_never_stored_by_a_cache(client_for: Client, token: TokenFactory) -> None:
    # given
    auditor = client_for(token=token(Role.AUDITOR))

    # when
    response = await auditor.get(CSV)

    # then: one caller's tenant data, kept by no browser or proxy
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.usefixtures("activity")
async def test_a_tenant_admin_exports_its_tenant_only(
    client_for: Client, token: TokenFactory
) -> None:
    # given
    admin = client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO))

    # when
    own = await admin.get(f"{CSV}&tenant={YEN_MO}&granularity=week")
    other = await admin.get(f"{CSV}&tenant={KIM_SON}")
    province = await admin.get(CSV)

    # then
    assert [line.split(",")[:3] for line in own.text.splitlines()[1:]] == [
        ["yen-mo", "2026-11-01", "2026-11-01"],
        ["yen-mo", "2026-11-02", "2026-11-08"],
        ["yen-mo", "2026-11-09", "2026-11-15"],
        ["yen-mo", "2026-11-16", "2026-11-22"],
        ["yen-mo", "2026-11-23", "2026-11-29"],
        ["yen-mo", "2026-11-30", "2026-11-30"],
    ]
    assert (other.status_code, other.json()["errors"][0]["extensions"]["code"]) == (
        403,
        "FORBIDDEN_TENANT",
    )
    assert province.status_code == 403
    assert (
        province.json()["errors"][0]["message"]
        == "Your role does not allow read province adoption."
    )


async def test_csv_refusals(client_for: Client, token: TokenFactory) -> None:
    # given
    member = client_for(token=token(Role.MEMBER, tenant=YEN_MO))
    auditor = client_for(token=token(Role.AUDITOR))

    # when
    anonymous = await client_for().get(CSV)
    forbidden = await member.get(f"{CSV}&tenant={YEN_MO}")
    bad = await auditor.get("/v1/adoption.csv?from=yesterday&to=2026-11-30")
    backwards = await auditor.get("/v1/adoption.csv?from=2026-11-30&to=2026-11-01")

    # then
    assert anonymous.status_code == 401
    assert (forbidden.status_code, forbidden.json()["errors"][0]["message"]) == (
        403,
        "Your role does not allow read adoption.",
    )
    assert (bad.status_code, bad.json()["errors"][0]["extensions"]["code"]) == (
        400,
        "BAD_USER_INPUT",
    )
    assert backwards.json()["errors"][0] == {
        "message": "The period ends (2026-11-01) before it starts (2026-11-30).",
        "extensions": {"code": "INVALID_PERIOD"},
    }


@pytest.mark.usefixtures("activity")
async def test_metrics_show_adoption_gauges(gateway: GatewayState) -> None:
    # given
    assert await refresh(gateway) == 3  # every tenant, Ha Nam's Duy Tien too

    # when
    text = scrape().text

    # then (November to date: 24 November's activity)
    assert 'pilotgraph_adoption_activation_ratio{tenant="yen-mo"} 0.2' in text
    assert 'pilotgraph_adoption_activation_ratio{tenant="kim-son"} 0.5' in text
    assert 'pilotgraph_adoption_monthly_active_members{tenant="yen-mo"} 2.0' in text
    assert 'pilotgraph_adoption_monthly_uses{tenant="yen-mo"} 3.0' in text
    assert 'pilotgraph_adoption_members{tenant="yen-mo"} 5.0' in text
