"""Adoption through GraphQL: every read's permissions, the province path, trackEvents."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from adoption.events import MAX_EVENTS
from gateway.state import GatewayState
from rollout.models import Flag, RolloutPlan, RolloutWave, RolloutWaveTenant
from tenants.types import Role
from tests.conftest import Client, TokenFactory
from tests.graphql import error_codes, gql
from tests.world import KIM_SON, KS_MEMBER, NOW, YEN_MO, YM_MEMBER_A

ADOPTION = """
query ($tenant: String) {
  adoption(tenant: $tenant, from: "2026-11-01", to: "2026-11-30") {
    tenants granularity
    points { start end members installs activatedMembers activationRate activeMembers uses }
  }
}
"""
RETENTION = """
query ($tenant: String) { retention(tenant: $tenant, months: 2) { month activated active rates } }
"""
BY_WAVE = """
query { adoptionByWave(flag: "handbook", from: "2026-11-01", to: "2026-11-30") {
  position name tenants points { activeMembers uses activatedMembers } } }
"""
TRACK = """
mutation ($events: [EventInput!]!) {
  trackEvents(events: $events) {
    accepted refused results { index accepted duplicate code message }
  }
}
"""
DAY = "2026-11-24T02:00:00Z"


def _point(body: dict[str, Any]) -> dict[str, Any]:
    return body["data"]["adoption"]["points"][0]  # type: ignore[no-any-return]


@pytest.mark.usefixtures("activity")
async def test_a_tenant_admin_reads_its_own_tenant(client_for: Client, token: TokenFactory) -> None:
    # given
    admin = client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO))

    # when
    status, body = await gql(admin, ADOPTION, {"tenant": YEN_MO})

    # then
    assert status == 200, body
    assert body["data"]["adoption"]["tenants"] == [YEN_MO]
    assert _point(body) == {
        "start": "2026-11-01",
        "end": "2026-11-30",
        "members": 5,
        "installs": 0,
        "activatedMembers": 1,
        "activationRate": 0.2,
        "activeMembers": 2,
        "uses": 3,
    }


@pytest.mark.usefixtures("activity")
@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.AUDITOR])
async def test_province_roles_read_the_province_and_any_tenant(
    client_for: Client, token: TokenFactory, role: Role
) -> None:
    # given
    client = client_for(token=token(role))

    # when
    _, province = await gql(client, ADOPTION)
    _, kim_son = await gql(client, ADOPTION, {"tenant": KIM_SON})

    # then the province adds up both tenants (7 members)
    assert province["data"]["adoption"]["tenants"] == [KIM_SON, YEN_MO]
    point = _point(province)
    assert (point["members"], point["activatedMembers"], point["activeMembers"], point["uses"]) == (
        7,
        2,
        3,
        3,
    )
    assert (_point(kim_son)["activatedMembers"], _point(kim_son)["members"]) == (1, 2)


@pytest.mark.parametrize(
    ("role", "tenant", "variables", "code", "message"),
    [
        (
            Role.TENANT_ADMIN,
            YEN_MO,
            {"tenant": KIM_SON},
            "FORBIDDEN_TENANT",
            "Your role does not cover tenant 'kim-son'.",
        ),
        (
            Role.TENANT_ADMIN,
            YEN_MO,
            {},
            "FORBIDDEN",
            "Your role does not allow read province adoption.",
        ),
        (
            Role.MEMBER,
            YEN_MO,
            {"tenant": YEN_MO},
            "FORBIDDEN",
            "Your role does not allow read adoption.",
        ),
        (
            Role.BRANCH_SECRETARY,
            YEN_MO,
            {"tenant": YEN_MO},
            "FORBIDDEN",
            "Your role does not allow read adoption.",
        ),
        (
            Role.PROVINCE_ADMIN,
            None,
            {"tenant": "nowhere"},
            "TENANT_NOT_FOUND",
            "Tenant 'nowhere' does not exist.",
        ),
    ],
)
@pytest.mark.parametrize("document", [ADOPTION, RETENTION])
async def test_reads_refused(
    client_for: Client,
    token: TokenFactory,
    role: Role,
    tenant: str | None,
    variables: dict[str, str],
    code: str,
    message: str,
    document: str,
) -> None:
    # given
    client = client_for(token=token(role, tenant=tenant, subject=str(YM_MEMBER_A)))

    # when
    status, body = await gql(client, document, variables)

    # then
    assert status == 200
    assert body["data"] is None
    assert error_codes(body) == [code]
    assert body["errors"][0]["message"] == message


@pytest.mark.parametrize("document", [ADOPTION, RETENTION, BY_WAVE])
async def test_anonymous_reads_are_refused(client_for: Client, document: str) -> None:
    # when
    _, body = await gql(client_for(), document)

    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.usefixtures("activity")
async def test_retention_of_a_tenant(client_for: Client, token: TokenFactory) -> None:
    # given
    admin = client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO))

    # when
    _, body = await gql(admin, RETENTION, {"tenant": YEN_MO})

    # then A activated in November and is active in it
    assert body["data"]["retention"] == [
        {"month": "2026-11-01", "activated": 1, "active": [1], "rates": [1.0]}
    ]


@pytest.mark.usefixtures("activity")
async def test_adoption_by_wave_reads_the_flag_plan(
    gateway: GatewayState, client_for: Client, token: TokenFactory
) -> None:
    # given a plan: wave 0 Yen Mo, wave 1 Kim Son
    plan_id = uuid.UUID(int=4242)
    async with gateway.sessionmaker() as session:
        session.add(
            Flag(
                province_id="ninh-binh",
                key="handbook",
                variants={"on": True, "off": False},
                default_variant="off",
                rollout_variant="on",
                updated_at=NOW,
            )
        )
        session.add(
            RolloutPlan(id=plan_id, province_id="ninh-binh", flag_key="handbook", updated_at=NOW)
        )
        await session.flush()
        for position, (name, tenant) in enumerate([("Pilot", YEN_MO), ("Wave 1", KIM_SON)]):
            session.add(
                RolloutWave(
                    province_id="ninh-binh",
                    plan_id=plan_id,
                    position=position,
                    name=name,
                    ramp=[10000],
                    gate_criteria=[],
                )
            )
            await session.flush()
            session.add(
                RolloutWaveTenant(
                    tenant_id=tenant, plan_id=plan_id, province_id="ninh-binh", position=position
                )
            )
        await session.commit()

    # when
    _, body = await gql(client_for(token=token(Role.PROVINCE_ADMIN)), BY_WAVE)
    _, refused = await gql(client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO)), BY_WAVE)

    # then
    assert body["data"]["adoptionByWave"] == [
        {
            "position": 0,
            "name": "Pilot",
            "tenants": [YEN_MO],
            "points": [{"activeMembers": 2, "uses": 3, "activatedMembers": 1}],
        },
        {
            "position": 1,
            "name": "Wave 1",
            "tenants": [KIM_SON],
            "points": [{"activeMembers": 1, "uses": 0, "activatedMembers": 1}],
        },
    ]
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_adoption_by_wave_of_a_flag_without_plan(
    client_for: Client, token: TokenFactory
) -> None:
    # when
    _, body = await gql(client_for(token=token(Role.AUDITOR)), BY_WAVE)

    # then
    assert error_codes(body) == ["PLAN_NOT_FOUND"]
    assert body["errors"][0]["message"] == "The flag 'handbook' has no rollout plan."


async def test_track_events_records_the_members_events(
    client_for: Client, token: TokenFactory
) -> None:
    # given a member's batch with one bad event, sent twice
    events = [
        {"id": str(uuid.UUID(int=31)), "type": "login", "timestamp": DAY, "deviceId": "p1"},
        {"id": str(uuid.UUID(int=32)), "type": "nap", "timestamp": DAY, "deviceId": "p1"},
    ]
    member = client_for(token=token(Role.MEMBER, tenant=YEN_MO, subject=str(YM_MEMBER_A)))

    # when
    _, first = await gql(member, TRACK, {"events": events})
    _, retry = await gql(member, TRACK, {"events": events})

    # then
    assert first["data"]["trackEvents"] == {
        "accepted": 1,
        "refused": 1,
        "results": [
            {"index": 0, "accepted": True, "duplicate": False, "code": None, "message": None},
            {
                "index": 1,
                "accepted": False,
                "duplicate": False,
                "code": "UNKNOWN_EVENT_TYPE",
                "message": "Unknown event type 'nap'; use app_installed, login, "
                "session_started, screen_viewed.",
            },
        ],
    }
    assert retry["data"]["trackEvents"]["results"][0]["duplicate"] is True
    _, read = await gql(
        client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO)), ADOPTION, {"tenant": YEN_MO}
    )
    assert _point(read)["activatedMembers"] == 1


@pytest.mark.parametrize(
    ("role", "subject", "code"),
    [
        (Role.PROVINCE_ADMIN, "province-admin", "FORBIDDEN"),
        (Role.MEMBER, str(KS_MEMBER), "NOT_A_MEMBER"),
    ],
)
async def test_track_events_refused(
    client_for: Client, token: TokenFactory, role: Role, subject: str, code: str
) -> None:
    # given
    client = client_for(token=token(role, tenant=YEN_MO, subject=subject))
    events = [{"id": str(uuid.UUID(int=33)), "type": "login", "timestamp": DAY, "deviceId": "p1"}]

    # when
    _, body = await gql(client, TRACK, {"events": events})

    # then
    assert error_codes(body) == [code]


TRACK_WITH_ERRORS = """
mutation ($events: [EventInput!]!) {
  trackEvents(events: $events) {
    accepted refused results { index } errors { field code message }
  }
}
"""


async def test_track_events_too_many_is_a_payload_error(
    client_for: Client, token: TokenFactory
) -> None:
    # given one event over the limit
    member = client_for(token=token(Role.MEMBER, tenant=YEN_MO, subject=str(YM_MEMBER_A)))
    events = [
        {"id": str(uuid.UUID(int=i)), "type": "login", "timestamp": DAY, "deviceId": "p1"}
        for i in range(1, MAX_EVENTS + 2)
    ]

    # when
    status, body = await gql(member, TRACK_WITH_ERRORS, {"events": events})

    # then: nothing stored, the refusal in the payload as every mutation's
    assert status == 200
    assert "errors" not in body
    assert body["data"]["trackEvents"] == {
        "accepted": 0,
        "refused": 0,
        "results": [],
        "errors": [
            {
                "field": "events",
                "code": "TOO_MANY_EVENTS",
                "message": "A request carries at most 1000 events; this one has 1001.",
            }
        ],
    }
