"""``rolloutFlags``: each province's configured flags, rules, overrides and plan, to its own
province admins and auditors only; every other role is refused with a code."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import flags, waves
from rollout.flag_catalogue import FlagKey
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, make_plan

ROLLOUT_FLAGS = """
{
  rolloutFlags {
    key description kind state version parents variants defaultVariant rolloutVariant
    rules { tenants roles branches members variant }
    overrides { tenant variant reason updatedBy updatedAt }
    plan { status wave step waveName percentage version }
  }
}
"""
MEETINGS, NOTICES = FlagKey.MEETINGS.value, FlagKey.NOTICES.value
HA_NAM_ADMIN = "ha-nam-admin"
AT = world.NOW.isoformat()


async def _ninh_binh(session: AsyncSession) -> None:
    """The handbook's plan started (pilot at 100%), meetings on for secretaries with two
    overrides, the kill switch on notices."""
    await make_plan(session)
    province = {"session": session, "province_id": world.PROVINCE, "now": world.NOW}
    await waves.step_forward(
        **province,
        flag_key="handbook",
        action=waves.Action.START,
        actor=ADMIN,
        kpis=FakeKpiSource(),
    )
    rules = [
        ({"role": ["branch_secretary"], "tenant": [world.YEN_MO]}, "on"),
        ({"tenant": ["kim-son", "hoa-lu"]}, "off"),
    ]
    await flags.set_rules(
        **province, key=MEETINGS, rules=rules, expected_version=1, actor=ADMIN, reason="pilot"
    )
    for tenant, variant in ((world.YEN_MO, "on"), (world.KIM_SON, "off")):
        await flags.set_override(
            **province, key=MEETINGS, tenant_id=tenant, variant=variant, actor=ADMIN, reason="pilot"
        )
    await flags.update(
        **province,
        key=NOTICES,
        expected_version=1,
        actor=ADMIN,
        reason="stop",
        state=flags.FlagState.KILLED,
    )


async def _ha_nam(session: AsyncSession) -> None:
    """Notices off by default, on for Duy Tien by rule, and an override of Duy Tien to off."""
    province = {"session": session, "province_id": world.OTHER_PROVINCE, "now": world.NOW}
    await flags.ensure(**province, key=NOTICES, actor=HA_NAM_ADMIN, default_variant="off")
    await flags.set_rules(
        **province,
        key=NOTICES,
        rules=[({"tenant": [world.DUY_TIEN]}, "on")],
        expected_version=1,
        actor=HA_NAM_ADMIN,
        reason="try",
    )
    await flags.set_override(
        **province,
        key=NOTICES,
        tenant_id=world.DUY_TIEN,
        variant="off",
        actor=HA_NAM_ADMIN,
        reason="wait",
    )


@pytest.fixture
async def two_provinces(gateway) -> None:
    async with gateway.sessionmaker() as session:
        await _ninh_binh(session)
        await _ha_nam(session)
        await session.commit()


def _flag(key: str, **fields: object) -> dict[str, object]:
    parents = [] if key == "handbook" else ["handbook"]
    return {
        "key": key,
        "kind": "boolean",
        "state": "active",
        "parents": parents,
        "variants": ["off", "on"],
        "rolloutVariant": "on",
        "rules": [],
        "overrides": [],
        "plan": None,
        **fields,
    }


def _rule(variant: str, **values: list[str]) -> dict[str, object]:
    """A rule as the API answers it: null for an attribute the rule does not look at."""
    rule: dict[str, object] = {a: None for a in ("tenants", "roles", "branches", "members")}
    return {**rule, **values, "variant": variant}


def _override(tenant: str, variant: str, by: str, reason: str) -> dict[str, str]:
    return {
        "tenant": tenant,
        "variant": variant,
        "reason": reason,
        "updatedBy": by,
        "updatedAt": AT,
    }


NINH_BINH = [
    _flag(
        "handbook",
        description="The electronic party-member handbook as a whole.",
        version=2,  # created off by the plan (1), then the pilot at 100% (2)
        defaultVariant="off",
        plan={
            "status": "running",
            "wave": 0,
            "step": 0,
            "waveName": "pilot",
            "percentage": 100.0,
            "version": 2,
        },
    ),
    _flag(
        MEETINGS,
        description="Branch meetings, agendas and attendance.",
        version=4,
        defaultVariant="on",
        rules=[
            _rule("on", roles=["branch_secretary"], tenants=[world.YEN_MO]),
            _rule("off", tenants=["hoa-lu", "kim-son"]),
        ],
        overrides=[
            _override(world.KIM_SON, "off", ADMIN, "pilot"),
            _override(world.YEN_MO, "on", ADMIN, "pilot"),
        ],
    ),
    _flag(
        NOTICES,
        description="Notices of party and government tasks.",
        version=2,
        state="killed",
        defaultVariant="on",
    ),
]
HA_NAM = [
    _flag(
        NOTICES,
        description="Notices of party and government tasks.",
        version=3,
        defaultVariant="off",
        rules=[_rule("on", tenants=[world.DUY_TIEN])],
        overrides=[_override(world.DUY_TIEN, "off", HA_NAM_ADMIN, "wait")],
    ),
]


@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR])
@pytest.mark.parametrize(
    ("province", "expected"), [(world.PROVINCE, NINH_BINH), (world.OTHER_PROVINCE, HA_NAM)]
)
async def test_each_province_role_reads_exactly_its_provinces_flags(
    two_provinces, client_for, token, role, province, expected
):
    # given: a province admin or auditor of Ninh Binh or Ha Nam, both provinces configured
    client = client_for(token(role, subject=f"{province}-{role.value}", province=province))
    # when
    status, body = await gql(client, ROLLOUT_FLAGS)
    # then: the province's flags, rules, overrides and plan, nothing of the other province
    assert status == 200, body
    assert "errors" not in body, body
    assert body["data"]["rolloutFlags"] == expected


@pytest.mark.parametrize(
    ("role", "tenant"),
    [
        (Role.TENANT_ADMIN, world.YEN_MO),
        (Role.TENANT_ADMIN, world.DUY_TIEN),
        (Role.BRANCH_SECRETARY, world.YEN_MO),
        (Role.MEMBER, world.KIM_SON),
    ],
)
async def test_tenant_roles_are_refused_the_flag_list(
    two_provinces, client_for, token, role, tenant
):
    # given: a tenant role; its tenant has an override
    client = client_for(token(role, tenant=tenant, subject=f"{tenant}-{role.value}"))
    # when
    status, body = await gql(client, ROLLOUT_FLAGS)
    # then: refused as every province rollout read refuses it, nothing listed
    assert status == 200, body
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == "Your role does not allow read rollout."
    assert body["data"] is None


async def test_anonymous_caller_is_refused_the_flag_list(two_provinces, client_for):
    # given: no token
    client = client_for()
    # when
    _, body = await gql(client, ROLLOUT_FLAGS)
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_a_province_with_no_configured_flag_lists_none(client_for, token):
    # given: Ha Nam has configured nothing
    client = client_for(
        token(Role.AUDITOR, subject="ha-nam-auditor", province=world.OTHER_PROVINCE)
    )
    # when
    status, body = await gql(client, ROLLOUT_FLAGS)
    # then: an empty list (the flags serve their catalogue defaults)
    assert status == 200, body
    assert body == {"data": {"rolloutFlags": []}}
