"""Rollout notices and the guardrail setting over GraphQL: who reads, who acknowledges, errors."""

from __future__ import annotations

import uuid

import jwt
import pytest

from gateway.settings import DEVELOPMENT_JWT_SECRET
from rollout import guardrail
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.guardrail_world import KIM_SON_FELL, CountingKpis, running_in_wave_1
from tests.rollout.plan_world import ADMIN, KEY, SECOND_ADMIN

NOTICES = """
query($flag: String, $unacknowledgedOnly: Boolean) {
  rolloutNotices(flag: $flag, unacknowledgedOnly: $unacknowledgedOnly) {
    id kind flag province wave message figures createdAt acknowledgedAt acknowledgedBy
  }
}
"""
ACKNOWLEDGE = """
mutation($id: ID!) {
  acknowledgeRolloutNotice(id: $id) {
    notice { id acknowledgedAt acknowledgedBy } errors { code message }
  }
}
"""
SET_GUARDRAIL = """
mutation($flag: String!, $drop: Float) {
  setRolloutGuardrail(flag: $flag, drop: $drop, reason: "harvest season") {
    guardrailDrop errors { code message }
  }
}
"""
CREATE = """
mutation($flag: String!, $waves: [WaveInput!]!, $drop: Float) {
  createRolloutPlan(flag: $flag, waves: $waves, guardrailDrop: $drop) {
    status errors { code message }
  }
}
"""
GUARDRAIL_OF = "query($flag: String!) { rollout(flag: $flag) { guardrailDrop } }"
IN_FORCE = "query($flag: String!) { rollout(flag: $flag) { guardrailDrop guardrailEffectiveDrop } }"
AUDIT = """
query($action: String) { rolloutAudit(action: $action) { actor action flag after } }
"""
MESSAGE = (
    "Guardrail: weekly active members of wave 1 'wave 1' (kim-son) fell 42.0% (1,200 → 696) "
    "in the week to 2026-11-24; threshold 30%."
)


@pytest.fixture
async def paused(gateway):
    """The plan running in wave 1, paused by the guardrail for Kim Son's fall."""
    kpis = CountingKpis(weekly=dict(KIM_SON_FELL))
    gateway.kpis = kpis
    async with gateway.sessionmaker() as session:
        await running_in_wave_1(session, kpis)
        await guardrail.check(session=session, kpis=kpis, policy=guardrail.Policy(), now=world.NOW)
    return gateway


async def notices(client, **variables):
    status, body = await gql(client, NOTICES, variables)
    assert status == 200, body
    return body["data"]["rolloutNotices"]


async def acknowledge(client, notice_id):
    status, body = await gql(client, ACKNOWLEDGE, {"id": notice_id})
    assert status == 200, body
    return body["data"]["acknowledgeRolloutNotice"]


async def test_province_admin_reads_the_guardrail_notice(paused, admin):
    # when
    [notice] = await notices(admin, flag=KEY)
    # then
    assert uuid.UUID(notice.pop("id"))
    assert notice == {
        "kind": "GUARDRAIL_PAUSE",
        "flag": KEY,
        "province": "ninh-binh",
        "wave": 1,
        "message": MESSAGE,
        "figures": {
            "as_of": "2026-11-24",
            "threshold": 0.3,
            "recent": 696,
            "earlier": 1200,
            "change": -0.42,
            "tenants": {"kim-son": {"recent": 696, "earlier": 1200}},
            "also_fell": [],
        },
        "createdAt": "2026-11-25T03:00:00+00:00",
        "acknowledgedAt": None,
        "acknowledgedBy": None,
    }
    assert await notices(admin, flag="handbook.meetings") == []


async def test_acknowledging_marks_the_notice_read_once_and_is_audited(
    paused, admin, token, client_for
):
    # given
    second = client_for(token(Role.PROVINCE_ADMIN, subject=SECOND_ADMIN))
    [notice] = await notices(admin)
    # when
    first = await acknowledge(admin, notice["id"])
    again = await acknowledge(second, notice["id"])
    # then
    read = {
        "id": notice["id"],
        "acknowledgedAt": "2026-11-25T03:00:00+00:00",
        "acknowledgedBy": ADMIN,
    }
    assert first == again == {"notice": read, "errors": []}
    assert await notices(admin, unacknowledgedOnly=True) == []
    assert [n["acknowledgedBy"] for n in await notices(admin)] == [ADMIN]
    _, audit = await gql(admin, AUDIT, {"action": "notice.acknowledge"})
    assert audit["data"]["rolloutAudit"] == [
        {
            "actor": ADMIN,
            "action": "notice.acknowledge",
            "flag": KEY,
            "after": {"notice_id": notice["id"], "kind": "guardrail_pause", "wave": 1},
        }
    ]


@pytest.mark.parametrize("notice_id", [str(uuid.UUID(int=404)), "not-an-id"])
async def test_acknowledging_an_unknown_notice_is_a_payload_error(paused, admin, notice_id):
    # when
    refused = await acknowledge(admin, notice_id)
    # then
    assert refused == {
        "notice": None,
        "errors": [
            {"code": "NOTICE_NOT_FOUND", "message": "There is no rollout notice with this id."}
        ],
    }


async def test_auditor_reads_notices_but_cannot_acknowledge(paused, token, client_for):
    # given
    auditor = client_for(token(Role.AUDITOR, subject="inspector"))
    [notice] = await notices(auditor)
    # when
    _, refused = await gql(auditor, ACKNOWLEDGE, {"id": notice["id"]})
    # then
    assert notice["message"] == MESSAGE
    assert error_codes(refused) == ["FORBIDDEN"]
    assert refused["errors"][0]["message"] == "Your role does not allow manage rollout."


@pytest.mark.parametrize("role", [Role.MEMBER, Role.TENANT_ADMIN])
@pytest.mark.parametrize("document", [NOTICES, ACKNOWLEDGE])
async def test_tenant_roles_are_refused(paused, token, client_for, role, document):
    # given
    client = client_for(token(role, tenant=world.KIM_SON, subject="someone"))
    # when
    _, body = await gql(client, document, {"id": str(uuid.UUID(int=1))})
    # then
    assert error_codes(body) == ["FORBIDDEN"]


async def test_another_province_neither_sees_nor_acknowledges(paused, admin, settings, client_for):
    # given: a province admin of Ha Nam
    claims = {
        "sub": "ha-nam-admin",
        "roles": ["province_admin"],
        "province": "ha-nam",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": 4_000_000_000,
    }
    ha_nam = client_for(jwt.encode(claims, DEVELOPMENT_JWT_SECRET, algorithm="HS256"))
    [notice] = await notices(admin)
    # when
    seen = await notices(ha_nam)
    refused = await acknowledge(ha_nam, notice["id"])
    # then
    assert seen == []
    assert [e["code"] for e in refused["errors"]] == ["NOTICE_NOT_FOUND"]
    assert [n["acknowledgedBy"] for n in await notices(admin)] == [None]


async def test_the_guardrail_is_set_per_plan(paused, admin):
    # when
    set_ = await gql(admin, SET_GUARDRAIL, {"flag": KEY, "drop": 0.5})
    _, shown = await gql(admin, GUARDRAIL_OF, {"flag": KEY})
    _, too_big = await gql(admin, SET_GUARDRAIL, {"flag": KEY, "drop": 1.5})
    _, unknown = await gql(admin, SET_GUARDRAIL, {"flag": "handbook.meetings", "drop": 0.5})
    _, default = await gql(admin, SET_GUARDRAIL, {"flag": KEY})
    _, in_force = await gql(admin, IN_FORCE, {"flag": KEY})
    # then
    assert set_ == (200, {"data": {"setRolloutGuardrail": {"guardrailDrop": 0.5, "errors": []}}})
    assert shown["data"]["rollout"] == {"guardrailDrop": 0.5}
    assert too_big["data"]["setRolloutGuardrail"] == {
        "guardrailDrop": None,
        "errors": [
            {
                "code": "INVALID_INPUT",
                "message": "The guardrail's drop is a fraction from 0 (off) to below 1, e.g. 0.3; "
                "not 1.5.",
            }
        ],
    }
    assert unknown["data"]["setRolloutGuardrail"]["errors"] == [
        {
            "code": "PLAN_NOT_FOUND",
            "message": "The flag 'handbook.meetings' has no rollout plan.",
        }
    ]
    assert default["data"]["setRolloutGuardrail"] == {"guardrailDrop": None, "errors": []}
    assert in_force["data"]["rollout"] == {"guardrailDrop": None, "guardrailEffectiveDrop": 0.3}


async def test_a_plan_is_created_with_its_guardrail(gateway, admin):
    # given
    waves = [{"name": "pilot", "tenants": [world.YEN_MO]}]
    # when
    _, created = await gql(
        admin, CREATE, {"flag": "handbook.meetings", "waves": waves, "drop": 0.2}
    )
    _, shown = await gql(admin, IN_FORCE, {"flag": "handbook.meetings"})
    # then
    assert created["data"]["createRolloutPlan"] == {"status": "draft", "errors": []}
    assert shown["data"]["rollout"] == {"guardrailDrop": 0.2, "guardrailEffectiveDrop": 0.2}
