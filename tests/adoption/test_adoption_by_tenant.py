"""``adoptionByTenant``: each named tenant's KPIs in one field, each tenant checked like
``adoption(tenant:)`` and answering exactly what that read answers."""

from __future__ import annotations

from typing import Any

import pytest

from tenants.types import Role
from tests.conftest import Client, TokenFactory
from tests.graphql import error_codes, gql
from tests.world import DUY_TIEN, KIM_SON, YEN_MO

POINT = "start end members installs activatedMembers activationRate activeMembers uses"
BY_TENANT = f"""
query ($tenants: [String!]!) {{
  adoptionByTenant(tenants: $tenants, from: "2026-11-01", to: "2026-11-30", granularity: WEEK) {{
    tenants granularity points {{ {POINT} }}
  }}
}}
"""
ONE_TENANT = f"""
query ($tenant: String) {{
  adoption(tenant: $tenant, from: "2026-11-01", to: "2026-11-30", granularity: WEEK) {{
    tenants granularity points {{ {POINT} }}
  }}
}}
"""


async def _one(client: Any, tenant: str) -> dict[str, Any]:
    _, body = await gql(client, ONE_TENANT, {"tenant": tenant})
    return body["data"]["adoption"]  # type: ignore[no-any-return]


@pytest.mark.usefixtures("activity")
@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR])
async def test_a_province_role_reads_each_tenant_as_its_own_read_would(
    client_for: Client, token: TokenFactory, role: Role
) -> None:
    # given
    client = client_for(token=token(role))
    # when: Yen Mo first, Kim Son named twice
    status, body = await gql(client, BY_TENANT, {"tenants": [YEN_MO, KIM_SON, KIM_SON]})
    # then: one report per tenant, in order, each what adoption(tenant:) answers
    assert status == 200, body
    reports = body["data"]["adoptionByTenant"]
    assert [r["tenants"] for r in reports] == [[YEN_MO], [KIM_SON]]
    assert reports == [await _one(client, YEN_MO), await _one(client, KIM_SON)]
    week = next(p for p in reports[0]["points"] if p["start"] == "2026-11-23")
    assert (week["activatedMembers"], week["activeMembers"], week["uses"]) == (1, 2, 3)
    assert sum(p["activatedMembers"] > 0 for p in reports[1]["points"]) >= 1


@pytest.mark.usefixtures("activity")
async def test_a_tenant_admin_reads_its_own_tenant(client_for: Client, token: TokenFactory) -> None:
    # given
    admin = client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO))
    # when
    _, body = await gql(admin, BY_TENANT, {"tenants": [YEN_MO]})
    # then
    assert body["data"]["adoptionByTenant"] == [await _one(admin, YEN_MO)]


async def test_an_empty_list_reads_nothing(client_for: Client, token: TokenFactory) -> None:
    # when
    _, body = await gql(client_for(token=token(Role.PROVINCE_ADMIN)), BY_TENANT, {"tenants": []})
    # then
    assert body == {"data": {"adoptionByTenant": []}}


@pytest.mark.parametrize(
    ("role", "tenant", "tenants", "code", "message"),
    [
        (
            Role.TENANT_ADMIN,
            YEN_MO,
            [YEN_MO, KIM_SON],
            "FORBIDDEN_TENANT",
            "Your role does not cover tenant 'kim-son'.",
        ),
        (
            Role.PROVINCE_ADMIN,
            None,
            [KIM_SON, DUY_TIEN],
            "FORBIDDEN_TENANT",
            "Your role does not cover tenant 'duy-tien'.",
        ),
        (
            Role.PROVINCE_ADMIN,
            None,
            ["nowhere"],
            "TENANT_NOT_FOUND",
            "Tenant 'nowhere' does not exist.",
        ),
        (
            Role.MEMBER,
            YEN_MO,
            [YEN_MO],
            "FORBIDDEN",
            "Your role does not allow read adoption.",
        ),
        (
            Role.PROVINCE_ADMIN,
            None,
            [YEN_MO] * 101,
            "BAD_USER_INPUT",
            "Name at most 100 tenants; got 101.",
        ),
    ],
)
async def test_refused_reads(
    client_for: Client,
    token: TokenFactory,
    role: Role,
    tenant: str | None,
    tenants: list[str],
    code: str,
    message: str,
) -> None:
    # given
    client = client_for(token=token(role, tenant=tenant))
    # when
    status, body = await gql(client, BY_TENANT, {"tenants": tenants})
    # then
    assert status == 200
    assert body["data"] is None
    assert error_codes(body) == [code]
    assert body["errors"][0]["message"] == message


async def test_anonymous_reads_are_refused(client_for: Client) -> None:
    # when
    _, body = await gql(client_for(), BY_TENANT, {"tenants": [YEN_MO]})
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]
