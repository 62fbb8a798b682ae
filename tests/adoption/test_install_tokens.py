"""Install tokens: issued at a rate-limited endpoint, checked on every event that carries one.

The installs KPI (distinct devices with ``app_installed``) must count a device only when the
gateway issued a token for it on that tenant; made-up, altered, foreign or expired tokens are
refused per event with a code and counted nowhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from adoption import install_tokens
from adoption.install_tokens import InstallTokenKey, TokenCheck
from gateway.app import create_app
from gateway.edge.config import RateLimit
from gateway.state import GatewayState
from tenants.types import Role
from tests.adoption.conftest import ev
from tests.conftest import Client, TokenFactory
from tests.graphql import gql
from tests.world import KIM_SON, NOW, YEN_MO, YM_MEMBER_A

RECENT = "2026-11-24T02:00:00Z"
KEY = InstallTokenKey(b"a key for the pure tests, 32 bytes+", dt.timedelta(days=7))
ISSUE = "/t/{tenant}/v1/install-tokens"
EVENTS = f"/t/{YEN_MO}/v1/events"
INSTALLS = """
query ($tenant: String) {
  adoption(tenant: $tenant, from: "2026-11-01", to: "2026-11-30") { points { installs } }
}
"""
INVALID = (
    "The install token was not issued by this gateway for this device on this tenant; "
    "get one from POST /v1/install-tokens."
)
EXPIRED = "The install token is older than 7 days; get a new one from POST /v1/install-tokens."
TRACK = """
mutation ($events: [EventInput!]!) {
  trackEvents(events: $events) { results { index accepted code message } }
}
"""
TWO_A_MINUTE = RateLimit(per_second=1 / 30, burst=2)
GENEROUS = RateLimit(per_second=100, burst=100)
Addressed = Callable[[str], httpx.AsyncClient]


async def _installs(client_for: Client, token: TokenFactory, tenant: str = YEN_MO) -> int:
    admin = client_for(token=token(Role.TENANT_ADMIN, tenant=tenant))
    status, body = await gql(admin, INSTALLS, {"tenant": tenant})
    assert status == 200, body
    return int(body["data"]["adoption"]["points"][0]["installs"])


async def _issued(client: httpx.AsyncClient, device: str, tenant: str = YEN_MO) -> str:
    response = await client.post(ISSUE.format(tenant=tenant), json={"deviceId": device})
    assert response.status_code == 200, response.text
    return str(response.json()["installToken"])


def _error(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["errors"][0]
    return response.status_code, error["extensions"]["code"], error["message"]


@pytest.fixture
async def addressed(gateway: GatewayState) -> AsyncIterator[Callable[..., Addressed]]:
    """``addressed(**settings)`` → ``client('10.0.0.1')``: clients at addresses, rate limits on."""
    clients: list[httpx.AsyncClient] = []

    def app_with(**overrides: Any) -> Addressed:
        base = gateway.settings
        edge = base.edge.model_copy(update={"rate_limits_enabled": True})
        configured = base.model_copy(update={"edge": edge, **overrides})
        app = create_app(configured, state=dataclasses.replace(gateway, settings=configured))

        def at(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40_000))
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            clients.append(client)
            return client

        return at

    yield app_with
    for client in clients:
        await client.aclose()


# -- the pure token -------------------------------------------------------------------------


def test_a_token_is_valid_only_for_its_tenant_device_and_lifetime() -> None:
    # given
    token = install_tokens.issue(key=KEY, tenant_id=YEN_MO, device_id="phone-1", now=NOW)

    # when
    def check(tenant: str = YEN_MO, device: str = "phone-1", at: dt.datetime = NOW) -> TokenCheck:
        return install_tokens.check(token, key=KEY, tenant_id=tenant, device_id=device, now=at)

    # then
    assert token.startswith(f"pgi1.{int(NOW.timestamp())}.")
    assert check() is TokenCheck.VALID
    assert check(at=NOW + dt.timedelta(days=7)) is TokenCheck.VALID
    assert check(at=NOW + dt.timedelta(days=7, seconds=1)) is TokenCheck.EXPIRED
    assert check(tenant=KIM_SON) is TokenCheck.FORGED
    assert check(device="phone-2") is TokenCheck.FORGED
    assert check(at=NOW - dt.timedelta(minutes=2)) is TokenCheck.FORGED  # issued "later"
    other_key = dataclasses.replace(KEY, secret=b"another key of at least 32 bytes!!")
    assert (
        install_tokens.check(token, key=other_key, tenant_id=YEN_MO, device_id="phone-1", now=NOW)
        is TokenCheck.FORGED
    )


def test_the_key_never_shows_in_repr() -> None:
    # when / then
    assert "32 bytes" not in repr(KEY)


@settings(max_examples=300, deadline=None)
@given(token=st.text(max_size=80))
def test_fuzzed_text_is_never_a_valid_token(token: str) -> None:
    # when
    verdict = install_tokens.check(token, key=KEY, tenant_id=YEN_MO, device_id="d", now=NOW)

    # then
    assert verdict in (TokenCheck.MALFORMED, TokenCheck.FORGED)


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0, max_value=200), char=st.characters(codec="utf-8"))
def test_a_token_changed_in_one_character_is_refused(position: int, char: str) -> None:
    # given
    token = install_tokens.issue(key=KEY, tenant_id=YEN_MO, device_id="d", now=NOW)
    index = position % len(token)
    tampered = token[:index] + char + token[index + 1 :]
    assume(tampered != token)

    # when
    verdict = install_tokens.check(tampered, key=KEY, tenant_id=YEN_MO, device_id="d", now=NOW)

    # then
    assert verdict is not TokenCheck.VALID


# -- ingest -----------------------------------------------------------------------------------


async def test_made_up_install_tokens_are_refused_and_not_counted(
    client_for: Client, token: TokenFactory
) -> None:
    # given 200 anonymous installs with made-up tokens, as in the finding
    before = await _installs(client_for, token)
    batch = [
        ev("app_installed", RECENT, device=f"fake-{n}", installToken=f"token-{n}")
        for n in range(100)
    ] + [
        ev("app_installed", RECENT, device=f"shaped-{n}", installToken=f"pgi1.1795000000.{n:043d}")
        for n in range(100)
    ]

    # when
    response = await client_for().post(EVENTS, json=batch)

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["refused"], body["stored"]) == (0, 200, 0)
    assert body["results"][0] == {
        "index": 0,
        "status": "refused",
        "code": "INSTALL_TOKEN_INVALID",
        "message": INVALID,
    }
    assert {(r["code"], r["message"]) for r in body["results"]} == {
        ("INSTALL_TOKEN_INVALID", INVALID)
    }
    assert await _installs(client_for, token) == before


async def test_tampered_foreign_and_expired_tokens_are_refused_and_not_counted(
    client_for: Client, token: TokenFactory, gateway: GatewayState
) -> None:
    # given tokens the gateway issued, then misused
    device = client_for()
    mine = await _issued(device, "phone-1")
    kim_son = await _issued(device, "phone-2", tenant=KIM_SON)
    other_device = await _issued(device, "phone-3")
    tampered = mine[:-1] + ("A" if mine[-1] != "A" else "B")
    stale = install_tokens.issue(
        key=gateway.install_key, tenant_id=YEN_MO, device_id="phone-4", now=NOW - dt.timedelta(8)
    )
    before = await _installs(client_for, token)

    # when
    response = await device.post(
        EVENTS,
        json=[
            ev("app_installed", RECENT, device="phone-1", installToken=tampered),
            ev("app_installed", RECENT, device="phone-2", installToken=kim_son),
            ev("app_installed", RECENT, device="phone-5", installToken=other_device),
            ev("app_installed", RECENT, device="phone-4", installToken=stale),
        ],
    )

    # then
    results = response.json()["results"]
    assert [(r["status"], r["code"], r["message"]) for r in results] == [
        ("refused", "INSTALL_TOKEN_INVALID", INVALID),
        ("refused", "INSTALL_TOKEN_INVALID", INVALID),
        ("refused", "INSTALL_TOKEN_INVALID", INVALID),
        ("refused", "INSTALL_TOKEN_EXPIRED", EXPIRED),
    ]
    assert await _installs(client_for, token) == before


async def test_a_valid_token_counts_its_device_once_whatever_the_retries(
    client_for: Client, token: TokenFactory
) -> None:
    # given a device with its token, installing, then the app re-sending and re-installing
    device = client_for()
    install_token = await _issued(device, "phone-1")
    install = ev("app_installed", RECENT, device="phone-1", installToken=install_token)
    reinstall = ev("app_installed", RECENT, device="phone-1", installToken=install_token)
    before = await _installs(client_for, token)

    # when
    answers = [await device.post(EVENTS, json=[install]) for _ in range(3)]
    again = await device.post(EVENTS, json=[reinstall])

    # then
    assert [a.json()["results"][0]["status"] for a in answers] == [
        "accepted",
        "duplicate",
        "duplicate",
    ]
    assert again.json()["results"][0] == {"index": 0, "status": "accepted"}
    assert await _installs(client_for, token) == before + 1


async def test_a_member_event_with_a_forged_token_is_refused_too(
    client_for: Client, token: TokenFactory
) -> None:
    # given a signed-in member whose app sends a made-up install token
    member = client_for(token=token(Role.MEMBER, tenant=YEN_MO, subject=str(YM_MEMBER_A)))

    # when
    response = await member.post(
        "/v1/events", json=[ev("app_installed", RECENT, installToken="made-up")]
    )

    # then
    assert response.json()["results"][0]["code"] == "INSTALL_TOKEN_INVALID"


async def test_track_events_checks_install_tokens_as_the_ingest_does(
    client_for: Client, token: TokenFactory
) -> None:
    # given a member's app with a token issued for phone-1, and one made up for phone-2
    member = client_for(token=token(Role.MEMBER, tenant=YEN_MO, subject=str(YM_MEMBER_A)))
    issued = await _issued(member, "phone-1")
    events = [
        ev("app_installed", RECENT, device="phone-1", installToken=issued),
        ev("app_installed", RECENT, device="phone-2", installToken="pgi1.1795000000." + "A" * 43),
    ]
    before = await _installs(client_for, token)

    # when
    status, body = await gql(member, TRACK, {"events": events})

    # then
    assert status == 200, body
    assert body["data"]["trackEvents"]["results"] == [
        {"index": 0, "accepted": True, "code": None, "message": None},
        {"index": 1, "accepted": False, "code": "INSTALL_TOKEN_INVALID", "message": INVALID},
    ]
    assert await _installs(client_for, token) == before + 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fuzzed=st.one_of(
        st.text(max_size=300),
        st.from_regex(r"pgi1\.[0-9]{1,10}\.[A-Za-z0-9_-]{43}", fullmatch=True),
        st.integers(),
        st.lists(st.text(max_size=4), max_size=2),
        st.none(),
    ),
    device=st.text(min_size=1, max_size=20),
)
async def test_fuzzed_install_tokens_are_never_accepted_nor_5xx(
    client_for: Client, fuzzed: Any, device: str
) -> None:
    # when
    response = await client_for().post(
        EVENTS, json=[ev("app_installed", RECENT, device=device, installToken=fuzzed)]
    )

    # then
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "refused"


# -- issuing ----------------------------------------------------------------------------------


async def test_a_device_gets_a_token_bound_to_it_and_the_tenant(
    client_for: Client, gateway: GatewayState
) -> None:
    # when
    response = await client_for().post(ISSUE.format(tenant=YEN_MO), json={"deviceId": "phone-1"})

    # then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body == {
        "installToken": body["installToken"],
        "tenant": YEN_MO,
        "deviceId": "phone-1",
        "expiresAt": "2026-12-02T03:00:00+00:00",
    }
    assert (
        install_tokens.check(
            body["installToken"],
            key=gateway.install_key,
            tenant_id=YEN_MO,
            device_id="phone-1",
            now=NOW,
        )
        is TokenCheck.VALID
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        (
            "POST",
            "/v1/install-tokens",
            {"deviceId": "p"},
            (
                400,
                "TENANT_REQUIRED",
                "Choose a tenant: use the /t/{tenant}/ path, the tenant's host"
                " or the X-Tenant header.",
            ),
        ),
        (
            "POST",
            "/t/nowhere/v1/install-tokens",
            {"deviceId": "p"},
            (404, "TENANT_NOT_FOUND", "Tenant 'nowhere' does not exist."),
        ),
        (
            "GET",
            ISSUE.format(tenant=YEN_MO),
            None,
            (405, "METHOD_NOT_ALLOWED", "Ask for an install token with POST."),
        ),
        (
            "POST",
            ISSUE.format(tenant=YEN_MO),
            {},
            (
                400,
                "INVALID_DEVICE_ID",
                "'deviceId' must be a string of 1 to 128 printable characters.",
            ),
        ),
        (
            "POST",
            ISSUE.format(tenant=YEN_MO),
            {"deviceId": "d" * 129},
            (
                400,
                "INVALID_DEVICE_ID",
                "'deviceId' must be a string of 1 to 128 printable characters.",
            ),
        ),
        (
            "POST",
            ISSUE.format(tenant=YEN_MO),
            {"deviceId": "a\nb"},
            (
                400,
                "INVALID_DEVICE_ID",
                "'deviceId' must be a string of 1 to 128 printable characters.",
            ),
        ),
        (
            "POST",
            ISSUE.format(tenant=YEN_MO),
            ["phone"],
            (
                400,
                "INVALID_DEVICE_ID",
                "'deviceId' must be a string of 1 to 128 printable characters.",
            ),
        ),
        (
            "POST",
            ISSUE.format(tenant=YEN_MO),
            "x" * 2_000,
            (413, "PAYLOAD_TOO_LARGE", "A request carries at most 1024 bytes."),
        ),
    ],
)
async def test_every_refusal_to_issue_is_coded(
    client_for: Client, method: str, path: str, body: Any, expected: tuple[int, str, str]
) -> None:
    # when
    response = await client_for().request(method, path, json=body)

    # then
    assert _error(response) == expected


async def test_a_body_that_is_not_json_is_refused_with_a_code(client_for: Client) -> None:
    # when
    response = await client_for().post(ISSUE.format(tenant=YEN_MO), content=b"{phone")

    # then
    assert _error(response) == (400, "MALFORMED_REQUEST", 'Send JSON: {"deviceId": "..."}.')


async def test_issuing_is_rate_limited_per_client_address(
    addressed: Callable[..., Addressed],
) -> None:
    # given one replica: two tokens a minute per address, the tenant generous
    at = addressed(install_token_rate=TWO_A_MINUTE, install_token_tenant_rate=GENEROUS)
    first = at("10.0.0.1")

    # when
    answers = [
        await first.post(ISSUE.format(tenant=YEN_MO), json={"deviceId": "p"}) for _ in range(3)
    ]
    elsewhere = await first.post(ISSUE.format(tenant=KIM_SON), json={"deviceId": "p"})
    second = await at("10.0.0.2").post(ISSUE.format(tenant=YEN_MO), json={"deviceId": "p"})

    # then the third, and the same address on another tenant, wait; another address does not
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert _error(answers[2]) == (
        429,
        "RATE_LIMITED",
        "Too many install tokens asked for; retry in 30 s.",
    )
    assert answers[2].headers["retry-after"] == "30"
    assert _error(elsewhere)[:2] == (429, "RATE_LIMITED")
    assert second.status_code == 200


async def test_issuing_is_rate_limited_per_tenant_across_addresses(
    addressed: Callable[..., Addressed],
) -> None:
    # given: addresses generous, two tokens a minute per tenant
    at = addressed(install_token_rate=GENEROUS, install_token_tenant_rate=TWO_A_MINUTE)

    # when three addresses ask on Yen Mo, and the third also on Kim Son
    yen_mo = [
        await at(f"10.0.1.{n}").post(ISSUE.format(tenant=YEN_MO), json={"deviceId": "p"})
        for n in range(3)
    ]
    kim_son = await at("10.0.1.2").post(ISSUE.format(tenant=KIM_SON), json={"deviceId": "p"})

    # then
    assert [a.status_code for a in yen_mo] == [200, 200, 429]
    assert _error(yen_mo[2])[1] == "RATE_LIMITED"
    assert kim_son.status_code == 200


async def test_development_issues_unthrottled_unless_rate_limits_are_on(
    client_for: Client,
) -> None:
    # given development defaults: rate limits off, as for the edge
    client = client_for()

    # when one address asks more often than the production burst allows
    answers = [
        await client.post(ISSUE.format(tenant=YEN_MO), json={"deviceId": f"p{n}"})
        for n in range(25)
    ]

    # then
    assert {a.status_code for a in answers} == {200}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.dictionaries(
            st.sampled_from(["deviceId", "tenant", "x"]),
            st.one_of(st.text(max_size=140), st.integers(), st.none()),
        ).map(lambda d: json.dumps(d).encode()),
    )
)
async def test_fuzzed_issue_requests_never_5xx(client_for: Client, body: bytes) -> None:
    # when
    response = await client_for().post(ISSUE.format(tenant=YEN_MO), content=body)

    # then
    assert response.status_code in (200, 400, 413), response.text
    assert response.json()
