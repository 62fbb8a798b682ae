"""``POST /v1/events``: validation per index, partial success, limits, identity from the token."""

from __future__ import annotations

import json
from typing import Any

from tenants.types import Role
from tests.adoption.conftest import ev
from tests.conftest import Client, TokenFactory
from tests.graphql import gql
from tests.world import KS_MEMBER, YEN_MO, YM_MEMBER_A

# tests/world.py NOW is 2026-11-25T03:00Z
RECENT = "2026-11-24T02:00:00Z"
ADOPTION = """
query ($tenant: String, $from: Date!, $to: Date!) {
  adoption(tenant: $tenant, from: $from, to: $to) {
    tenants points { start uses activeMembers activatedMembers members }
  }
}
"""


def _member(client_for: Client, token: TokenFactory, subject: Any = YM_MEMBER_A) -> Any:
    return client_for(token=token(Role.MEMBER, tenant=YEN_MO, subject=str(subject)))


async def _yen_mo_november(client_for: Client, token: TokenFactory) -> dict[str, Any]:
    admin = client_for(token=token(Role.TENANT_ADMIN, tenant=YEN_MO))
    status, body = await gql(
        admin, ADOPTION, {"tenant": YEN_MO, "from": "2026-11-01", "to": "2026-11-30"}
    )
    assert status == 200, body
    return body["data"]["adoption"]["points"][0]  # type: ignore[no-any-return]


async def test_valid_events_are_stored_and_invalid_ones_refused_by_index(
    client_for: Client, token: TokenFactory
) -> None:
    # given a batch with one good event and five bad ones
    batch = [
        ev("session_started", RECENT),
        ev("dance", RECENT),
        ev("login", "2026-11-27T04:00:00Z"),
        ev("login", "2026-08-01T00:00:00Z"),
        {**ev("login", RECENT), "id": "not-a-uuid"},
        {**ev("login", RECENT), "memberId": str(KS_MEMBER)},
    ]

    # when
    response = await _member(client_for, token).post("/v1/events", json=batch)

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["refused"], body["stored"]) == (1, 5, 1)
    assert body["results"][0] == {"index": 0, "status": "accepted"}
    assert [(r["index"], r["code"]) for r in body["results"][1:]] == [
        (1, "UNKNOWN_EVENT_TYPE"),
        (2, "TIMESTAMP_IN_FUTURE"),
        (3, "TIMESTAMP_TOO_OLD"),
        (4, "INVALID_EVENT_ID"),
        (5, "IDENTITY_IN_BODY"),
    ]
    assert body["results"][2]["message"] == "The timestamp is more than 24 hours ahead."
    assert (
        body["results"][5]["message"]
        == "'memberId' comes from the bearer token, never from the event."
    )
    november = await _yen_mo_november(client_for, token)
    assert (november["uses"], november["activeMembers"]) == (1, 1)


async def test_ndjson_and_retries_count_once(client_for: Client, token: TokenFactory) -> None:
    # given one NDJSON batch of a login and two sessions
    batch = [ev("login", RECENT), ev("session_started", RECENT), ev("session_started", RECENT)]
    payload = "\n".join(json.dumps(e) for e in batch)
    headers = {"Content-Type": "application/x-ndjson"}

    # when the app sends it three times (its answers were lost)
    answers = [
        await _member(client_for, token).post("/v1/events", content=payload, headers=headers)
        for _ in range(3)
    ]

    # then all accepted, stored once
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["stored"] for a in answers] == [3, 0, 0]
    assert answers[1].json()["results"][0] == {"index": 0, "status": "duplicate"}
    assert all(a.json()["accepted"] == 3 for a in answers)
    november = await _yen_mo_november(client_for, token)
    assert (november["uses"], november["activatedMembers"]) == (2, 1)


async def test_anonymous_events_need_an_install_token_and_a_tenant(client_for: Client) -> None:
    # given no bearer token, and an install token the gateway issued for phone-1
    anonymous = client_for()
    issued = await anonymous.post(f"/t/{YEN_MO}/v1/install-tokens", json={"deviceId": "phone-1"})
    install_token = issued.json()["installToken"]

    # when
    no_tenant = await anonymous.post("/v1/events", json=[ev("app_installed", RECENT)])
    answer = await anonymous.post(
        f"/t/{YEN_MO}/v1/events",
        json=[ev("app_installed", RECENT), ev("app_installed", RECENT, installToken=install_token)],
    )

    # then
    assert no_tenant.status_code == 400
    assert no_tenant.json()["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"
    results = answer.json()["results"]
    assert results[0] == {
        "index": 0,
        "status": "refused",
        "code": "MISSING_FIELD",
        "message": "'installToken' is required for this event.",
    }
    assert results[1] == {"index": 1, "status": "accepted"}


async def test_limits_and_malformed_bodies(client_for: Client, token: TokenFactory) -> None:
    # given
    client = _member(client_for, token)

    # when
    too_many = await client.post("/v1/events", json=[ev("login", RECENT)] * 1001)
    too_big = await client.post("/v1/events", content=b"[" + b" " * (1024 * 1024) + b"]")
    malformed = await client.post("/v1/events", content=b"{not json")
    not_a_list = await client.post("/v1/events", json={"type": "login"})

    # then
    def code(response: Any) -> tuple[int, str]:
        return response.status_code, response.json()["errors"][0]["extensions"]["code"]

    assert code(too_many) == (413, "TOO_MANY_EVENTS")
    assert too_many.json()["errors"][0]["message"] == (
        "A request carries at most 1000 events; this one has 1001."
    )
    assert code(too_big) == (413, "PAYLOAD_TOO_LARGE")
    assert code(malformed) == (400, "MALFORMED_EVENTS")
    assert code(not_a_list) == (400, "MALFORMED_EVENTS")
    assert not_a_list.json()["errors"][0]["message"] == (
        "The body must be a JSON array of events (or NDJSON)."
    )


async def test_a_token_of_no_member_records_nothing(
    client_for: Client, token: TokenFactory
) -> None:
    # given a Kim Son member's id in a Yen Mo token
    client = _member(client_for, token, subject=KS_MEMBER)

    # when
    response = await client.post("/v1/events", json=[ev("login", RECENT)])

    # then
    assert response.status_code == 403
    assert response.json()["errors"][0] == {
        "message": "Events are recorded for members of the tenant.",
        "extensions": {"code": "NOT_A_MEMBER"},
    }
