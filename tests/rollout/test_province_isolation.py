"""The province wall of the rollout: every rollout field, generated from the schema.

Every query and mutation whose resolver lives in ``schema/rollout`` is sent by a province admin
and an auditor of Ha Nam, aimed at Ninh Binh's flag, plan, tenant, approval and notice. A new
rollout field is covered without editing this test: its arguments are filled from their names
and types (an unknown required argument fails the test, naming it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import flags, notices, schedule, waves
from rollout.models import (
    AuditEntry,
    Flag,
    FlagOverride,
    FlagRule,
    NoticeKind,
    RolloutApproval,
    RolloutNotice,
    RolloutPlan,
    RolloutWave,
    RolloutWaveTenant,
    ScheduledStep,
    TenantRollout,
)
from rollout.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from schema.root import schema
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, KEY, make_plan

ROLLOUT_TABLES = (
    Flag,
    FlagRule,
    FlagOverride,
    TenantRollout,
    RolloutPlan,
    RolloutWave,
    RolloutWaveTenant,
    RolloutApproval,
    ScheduledStep,
    AuditEntry,
    RolloutNotice,
    WebhookEndpoint,
    WebhookEvent,
    WebhookDelivery,
    WebhookAttempt,
)
# Fields that name no target: they write in the caller's own province (a Ha Nam admin may add a
# Ha Nam webhook), so they are not refused; nothing of Ninh Binh may be read or changed still.
UNAIMED = {"createWebhookEndpoint"}
HA_NAM_ADMIN = "ha-nam-admin"
NOTICE_MESSAGE = "Guardrail: Yen Mo fell"
# Ninh Binh's data a Ha Nam answer must never hold (the ids are added by the fixture)
NINH_BINH_DATA = ["ninh-binh", ADMIN, "kim-son", "hoa-lu", "the rest", NOTICE_MESSAGE]
OWN_PLAN_WAVES = [{"name": "Duy Tien pilot", "tenants": [world.DUY_TIEN]}]


@dataclasses.dataclass(frozen=True)
class NinhBinh:
    """Ninh Binh's rollout: a running plan with a pending approval, a scheduled step, an
    override and a notice."""

    plan_id: uuid.UUID
    approval_id: uuid.UUID
    step_id: uuid.UUID
    notice_id: uuid.UUID
    flag_version: int


async def _ninh_binh_rollout(session: AsyncSession) -> NinhBinh:
    view = await make_plan(session)
    province = {"session": session, "province_id": world.PROVINCE, "now": world.NOW}
    kpis = FakeKpiSource()
    await waves.step_forward(
        **province, flag_key=KEY, action=waves.Action.START, actor=ADMIN, kpis=kpis
    )
    for _ in range(2):
        await waves.step_forward(
            **province, flag_key=KEY, action=waves.Action.ADVANCE, actor=ADMIN, kpis=kpis
        )
    requested = await waves.step_forward(
        **province, flag_key=KEY, action=waves.Action.ADVANCE, actor=ADMIN, kpis=kpis
    )
    assert requested.approval is not None
    assert not requested.applied
    step = await schedule.schedule(
        **province,
        flag_key=KEY,
        action=waves.Action.PAUSE,
        run_at=world.NOW + dt.timedelta(days=3),
        actor=ADMIN,
        reason="weekend",
    )
    flag = await flags.set_override(
        **province, key=KEY, tenant_id=world.YEN_MO, variant="on", actor=ADMIN, reason="pilot"
    )
    notice = await notices.add(
        session=session,
        plan=view.plan,
        tenant_ids=[world.YEN_MO],
        kind=NoticeKind.GUARDRAIL_PAUSE,
        message=NOTICE_MESSAGE,
        figures={},
        now=world.NOW,
        wave=0,
    )
    await session.commit()
    return NinhBinh(view.plan.id, requested.approval.id, step.id, notice.id, flag.version)


@pytest.fixture
async def ninh_binh(gateway) -> NinhBinh:
    gateway.kpis = FakeKpiSource()
    async with gateway.sessionmaker() as session:
        made = await _ninh_binh_rollout(session)
    await gateway.flags.reload(gateway.sessionmaker)
    return made


async def _checksum(gateway, province_id: str) -> str:
    """A digest of every rollout row of ``province_id``."""
    digest = hashlib.sha256()
    async with gateway.sessionmaker() as session:
        for model in ROLLOUT_TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            rows = await session.execute(
                select(table).where(table.c.province_id == province_id).order_by(*table.primary_key)
            )
            for row in rows:
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def rollout_fields(kind: str) -> list[str]:
    """The schema's ``kind`` (Query or Mutation) fields whose resolver lives in schema/rollout."""
    definition = schema.get_type_by_name(kind)
    assert definition is not None
    names = []
    for field in definition.fields:  # type: ignore[union-attr]
        resolver = field.base_resolver
        module = resolver.wrapped_func.__module__ if resolver is not None else ""
        if module.startswith("schema.rollout."):
            names.append(schema.config.name_converter.get_graphql_name(field))
    return sorted(names)


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _selection(type_: Any, depth: int = 0) -> str:
    named = _named(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if isinstance(named, GraphQLUnionType) or depth > 2:
        return "{ __typename }"
    assert isinstance(named, GraphQLObjectType)
    parts = []
    for name, field in named.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
            continue
        parts.append(f"{name} {_selection(field.type, depth + 1)}".strip())
    return "{ " + " ".join(parts) + " }"


def _values(target: NinhBinh) -> dict[str, Any]:
    """Argument values by name, all aimed at Ninh Binh."""
    return {
        "flag": KEY,
        "tenant": world.YEN_MO,
        "approvalId": str(target.approval_id),
        "id": str(target.notice_id),
        "expectedVersion": target.flag_version,
        "reason": "from Ha Nam",
        "variant": "off",
        "state": "KILLED",
        "action": "PAUSE",
        "runAt": (world.NOW + dt.timedelta(days=1)).isoformat(),
        "percentage": 10.0,
        "drop": 0.5,
        "url": "https://hooks.example.org/ha-nam",
        "rules": [
            {"conditions": [{"attribute": "TENANT", "values": [world.YEN_MO]}], "variant": "off"}
        ],
        "waves": [{"name": "taken over", "tenants": [world.YEN_MO]}],
    }


AIMED = {"flag", "tenant", "approvalId", "id"}  # optional arguments still sent: the targets


def document(kind: str, name: str, target: NinhBinh) -> tuple[str, dict[str, Any]]:
    """A document calling ``name`` with every required (or aiming) argument filled."""
    root = schema._schema.query_type if kind == "Query" else schema._schema.mutation_type
    field = root.fields[name]
    values, declared, passed = _values(target), [], []
    for arg_name, arg in field.args.items():
        required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
        if not required and arg_name not in AIMED:
            continue
        assert arg_name in values, f"{kind}.{name}: give a value for argument {arg_name!r}"
        declared.append(f"${arg_name}: {arg.type}")
        passed.append(f"{arg_name}: ${arg_name}")
    head = f"({', '.join(declared)})" if declared else ""
    call = f"{name}({', '.join(passed)})" if passed else name
    operation = "query" if kind == "Query" else "mutation"
    text = f"{operation}{head} {{ {call} {_selection(field.type)} }}"
    return text, {k: values[k] for k in field.args if f"${k}:" in text}


def _coded_refusal(name: str, body: dict[str, Any], variables: dict[str, Any]) -> bool:
    """A top-level coded error, a payload with coded errors, or, for a list read that names no
    tenant, an empty list (the province has no such rows); naming another province's tenant is
    always refused."""
    if error_codes(body):
        return True
    answer = (body.get("data") or {}).get(name)
    if isinstance(answer, dict):
        return any(e.get("code") for e in answer.get("errors") or [])
    return answer == [] and "tenant" not in variables


FIELDS = [("Query", n) for n in rollout_fields("Query")] + [
    ("Mutation", n) for n in rollout_fields("Mutation")
]


def test_the_walk_finds_the_rollout_surface():
    # then: the generated cases are the rollout fields, not an empty list
    names = {name for _, name in FIELDS}
    assert {
        "rollout",
        "rolloutAudit",
        "rolloutNotices",
        "features",
        "setFlagOverride",
        "pauseRollout",
        "resumeRollout",
        "setRolloutGuardrail",
        "scheduleRolloutStep",
        "approveRolloutStep",
        "createRolloutPlan",
        "setFlagState",
    } <= names


@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR])
@pytest.mark.parametrize(("kind", "name"), FIELDS)
async def test_another_province_neither_reads_nor_writes_ninh_binh(
    ninh_binh, gateway, token, client_for, role, kind, name
):
    # given: a Ha Nam principal, and Ninh Binh's rollout as it is
    client = client_for(token(role, subject=HA_NAM_ADMIN, province=world.OTHER_PROVINCE))
    text, variables = document(kind, name, ninh_binh)
    before = await _checksum(gateway, world.PROVINCE)
    # when
    status, body = await gql(client, text, variables)
    # then: a coded answer, nothing of Ninh Binh in it, Ninh Binh's rows unchanged
    assert status < 500, body
    assert name in UNAIMED or _coded_refusal(name, body, variables), body
    answer = json.dumps(body, ensure_ascii=False)
    secrets = [*NINH_BINH_DATA, str(ninh_binh.plan_id), str(ninh_binh.step_id)]
    assert [s for s in secrets if s in answer] == [], answer
    assert await _checksum(gateway, world.PROVINCE) == before


OWN_PLAN = """
mutation($waves: [WaveInput!]!) {
  createRolloutPlan(flag: "handbook", waves: $waves) { applied status errors { code } }
}
"""
OWN_START = 'mutation { startRollout(flag: "handbook") { applied approvalId errors { code } } }'
OWN_APPROVE = """
mutation($id: ID!) { approveRolloutStep(approvalId: $id) { applied status errors { code } } }
"""
OWN_ROLLOUT = '{ rollout(flag: "handbook") { status wave tenants { tenant state } } }'
OWN_KILL = """
mutation($version: Int!) {
  setFlagState(flag: "handbook", state: KILLED, expectedVersion: $version, reason: "x") {
    state errors { code }
  }
}
"""
OWN_AUDIT = "{ rolloutAudit { actor action tenant } }"
FEATURES = "{ features { key enabled } }"


async def test_each_province_runs_its_own_handbook(ninh_binh, gateway, token, client_for):
    # given: Ha Nam's admin, a Duy Tien member and a Yen Mo member
    ha_nam = client_for(token(Role.PROVINCE_ADMIN, subject=HA_NAM_ADMIN, province="ha-nam"))
    second = client_for(token(Role.PROVINCE_ADMIN, subject="ha-nam-admin-2", province="ha-nam"))
    duy_tien = client_for(token(Role.MEMBER, tenant=world.DUY_TIEN, subject=str(world.DT_MEMBER)))
    yen_mo = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    ninh_binh_rows = await _checksum(gateway, world.PROVINCE)
    _, yen_mo_before = await gql(yen_mo, FEATURES)
    # when: Ha Nam plans, starts, reads and kills its own handbook
    _, created = await gql(ha_nam, OWN_PLAN, {"waves": OWN_PLAN_WAVES})
    _, started = await gql(ha_nam, OWN_START)
    approval = {"id": started["data"]["startRollout"]["approvalId"]}
    _, approved = await gql(second, OWN_APPROVE, approval)
    _, state = await gql(ha_nam, OWN_ROLLOUT)
    _, on = await gql(duy_tien, FEATURES)
    async with gateway.sessionmaker() as session:
        flag = await flags.get_or_raise(session=session, province_id="ha-nam", key=KEY)
    _, killed = await gql(ha_nam, OWN_KILL, {"version": flag.version})
    _, off = await gql(duy_tien, FEATURES)
    _, audit = await gql(ha_nam, OWN_AUDIT)
    _, yen_mo_after = await gql(yen_mo, FEATURES)
    # then: Ha Nam's plan works, and nothing of Ninh Binh moved or showed
    assert created["data"]["createRolloutPlan"] == {
        "applied": True,
        "status": "draft",
        "errors": [],
    }
    assert started["data"]["startRollout"]["errors"] == []  # the whole province: four eyes
    assert approved["data"]["approveRolloutStep"] == {
        "applied": True,
        "status": "completed",
        "errors": [],
    }
    assert state["data"]["rollout"] == {
        "status": "completed",
        "wave": 0,
        "tenants": [{"tenant": "duy-tien", "state": "on"}],
    }
    assert on["data"]["features"][0] == {"key": "handbook", "enabled": True}
    assert killed["data"]["setFlagState"] == {"state": "killed", "errors": []}
    assert off["data"]["features"][0] == {"key": "handbook", "enabled": False}
    assert {row["actor"] for row in audit["data"]["rolloutAudit"]} == {
        HA_NAM_ADMIN,
        "ha-nam-admin-2",
    }
    assert yen_mo_after == yen_mo_before
    assert await _checksum(gateway, world.PROVINCE) == ninh_binh_rows
