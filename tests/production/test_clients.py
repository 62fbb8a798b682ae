"""The handbook app's other doors, as its clients use them: flags through the real OpenFeature
SDK (OFREP) with a Keycloak token, event ingest signed in and anonymous, and the install-token
rate limit kept in Redis, shared by both workers.

The install-token tests share one client address (127.0.0.1) and its bucket of 20: the rate-limit
test runs last in this module and spends what is left.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import redis
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import ErrorCode

from gateway.edge.ratelimit import REDIS_PREFIX
from tests.production.conftest import REDIS_DB, TENANT, People, Profile, bearer

INSTALL_BURST = 20  # the gateway's default install_token_rate burst per client address


def _event(kind: str, device: str, **extra: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat()
    return {"id": str(uuid.uuid4()), "type": kind, "timestamp": now, "deviceId": device, **extra}


def _openfeature(profile: Profile) -> OpenFeatureClient:
    token = profile.realm.access_token("member")
    provider = OFREPProvider(profile.url, headers_factory=lambda: bearer(token))
    api.set_provider(provider, domain="production-profile")
    return api.get_client("production-profile")


async def test_the_openfeature_sdk_reads_flags_with_a_keycloak_token(
    profile: Profile, people: People
) -> None:
    # given: the demo has the handbook on in Yen Mo
    client = _openfeature(profile)
    me = EvaluationContext(targeting_key=people.member)
    # when: the SDK's calls block (requests), so they stay off the event loop
    handbook = await asyncio.to_thread(client.get_boolean_details, "handbook", False, me)
    missing = await asyncio.to_thread(client.get_boolean_details, "handbook.chat", False, me)
    impostor = await asyncio.to_thread(
        client.get_boolean_details, "handbook", False, EvaluationContext(targeting_key="x")
    )
    # then
    assert (handbook.value, handbook.error_code, handbook.variant) == (True, None, "on")
    assert (missing.value, missing.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
    assert (impostor.value, impostor.error_code) == (False, ErrorCode.INVALID_CONTEXT)


async def test_a_signed_in_member_sends_events(profile: Profile, client: httpx.AsyncClient) -> None:
    # given
    token = profile.realm.access_token("member")
    batch = [_event("login", "phone-prod"), _event("screen_viewed", "phone-prod", screen="home")]
    # when
    response = await client.post("/v1/events", json=batch, headers=bearer(token))
    again = await client.post("/v1/events", json=batch[:1], headers=bearer(token))
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["refused"]) == (2, 0)
    assert again.json()["results"] == [{"index": 0, "status": "duplicate"}]


async def test_an_anonymous_install_is_counted_with_its_install_token(
    client: httpx.AsyncClient,
) -> None:
    # given
    issued = await client.post(f"/t/{TENANT}/v1/install-tokens", json={"deviceId": "new-phone"})
    assert issued.status_code == 200, issued.text
    install_token = issued.json()["installToken"]
    events = [
        _event("app_installed", "new-phone", installToken=install_token),
        _event("app_installed", "new-phone", installToken=install_token[:-2] + "AA"),
    ]
    # when
    response = await client.post(f"/t/{TENANT}/v1/events", json=events)
    # then
    results = response.json()["results"]
    assert results[0] == {"index": 0, "status": "accepted"}
    assert (results[1]["status"], results[1]["code"]) == ("refused", "INSTALL_TOKEN_INVALID")


async def test_install_tokens_are_rate_limited_in_redis_across_workers(profile: Profile) -> None:
    # given: a fresh connection per request, so both workers take from the bucket
    answers = []
    for n in range(2 * INSTALL_BURST + 2):  # two workers with buckets of their own: 40 pass
        async with httpx.AsyncClient(base_url=profile.url) as fresh:
            answers.append(
                await fresh.post(f"/t/{TENANT}/v1/install-tokens", json={"deviceId": f"d{n}"})
            )
        if answers[-1].status_code == 429:
            break
    # then: the address's burst is spent once for the whole gateway, and the bucket is Redis'
    refused = answers[-1]
    assert refused.status_code == 429
    assert {a.status_code for a in answers[:-1]} == {200}
    assert len(answers) - 1 <= INSTALL_BURST
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < int(refused.headers["retry-after"]) <= 30
    buckets = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}")
    assert buckets.exists(f"{REDIS_PREFIX}install:ip:127.0.0.1")
