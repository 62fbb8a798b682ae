"""Rate limits: token buckets per verified principal and per tenant, in-process and in Redis."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as redis_asyncio
from pydantic import SecretStr

from gateway.edge.config import ANONYMOUS, DEFAULT, RateLimit
from gateway.edge.middleware import close_limiters
from gateway.edge.ratelimit import REDIS_PREFIX
from tenants.types import Role
from tests import world

REDIS_URL = "redis://127.0.0.1:6379/0"
TYPENAME = {"query": "{ __typename }"}
TWO_A_WHILE = RateLimit(per_second=0.5, burst=2)
GENEROUS = RateLimit(per_second=100, burst=100)


def limits(**by_role: RateLimit) -> dict[str, object]:
    table = {DEFAULT: GENEROUS, ANONYMOUS: GENEROUS, **by_role}
    return {"rate_limits_enabled": True, "rate_limits": table}


async def burst(client, times: int):
    return [await client.post("/graphql", json=TYPENAME) for _ in range(times)]


def assert_limited(response) -> None:
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {
        "errors": [
            {"message": "Too many requests; retry in 2 s.", "extensions": {"code": "RATE_LIMITED"}}
        ]
    }


async def test_a_principal_gets_its_burst_then_429(edge_client, token):
    # given
    client = edge_client(
        token(Role.MEMBER, tenant=world.YEN_MO, subject="a"), **limits(member=TWO_A_WHILE)
    )
    # when
    first, second, third = await burst(client, 3)
    # then
    assert [first.status_code, second.status_code] == [200, 200]
    assert_limited(third)


async def test_principals_have_their_own_buckets_and_roles_their_own_rates(edge_client, token):
    # given: one app (one replica), members limited, admins not
    settings = limits(member=TWO_A_WHILE)
    a = token(Role.MEMBER, tenant=world.YEN_MO, subject="a")
    b = token(Role.MEMBER, tenant=world.YEN_MO, subject="b")
    admin = token(Role.TENANT_ADMIN, tenant=world.YEN_MO, subject="c")
    client = edge_client(**settings)
    # when
    as_a = [await client.post("/graphql", json=TYPENAME, headers=_bearer(a)) for _ in range(3)]
    as_b = await client.post("/graphql", json=TYPENAME, headers=_bearer(b))
    as_admin = [
        await client.post("/graphql", json=TYPENAME, headers=_bearer(admin)) for _ in range(5)
    ]
    # then
    assert_limited(as_a[2])
    assert as_b.status_code == 200
    assert {r.status_code for r in as_admin} == {200}


async def test_a_tenant_has_a_bucket_across_its_principals(edge_client, token):
    # given
    client = edge_client(**limits(), tenant_rate_limit=TWO_A_WHILE)
    subjects = ["a", "b", "c"]
    # when
    answers = [
        await client.post(
            "/graphql",
            json=TYPENAME,
            headers=_bearer(token(Role.MEMBER, tenant=world.YEN_MO, subject=s)),
        )
        for s in subjects
    ]
    other_tenant = await client.post(
        "/graphql",
        json=TYPENAME,
        headers=_bearer(token(Role.MEMBER, tenant=world.KIM_SON, subject="d")),
    )
    # then
    assert [answers[0].status_code, answers[1].status_code] == [200, 200]
    assert_limited(answers[2])
    assert other_tenant.status_code == 200


async def test_unverified_headers_never_create_buckets(edge_client):
    # given: anonymous callers share their address's bucket whatever headers they send
    client = edge_client(**limits(anonymous=TWO_A_WHILE))
    disguises = [
        {"X-Tenant": world.YEN_MO},
        {"X-Forwarded-For": "10.0.0.1"},
        {"X-Tenant": world.KIM_SON, "X-Forwarded-For": "10.0.0.2"},
    ]
    # when
    answers = [await client.post("/graphql", json=TYPENAME, headers=h) for h in disguises]
    # then
    assert [answers[0].status_code, answers[1].status_code] == [200, 200]
    assert_limited(answers[2])


async def test_rate_limits_are_off_in_development_by_default(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO))
    # when
    answers = await burst(client, 250)
    # then
    assert {r.status_code for r in answers} == {200}


async def test_redis_buckets_are_shared_between_replicas(edge_client, token):
    # given: two apps (replicas) on one Redis
    subject = f"redis-{uuid.uuid4().hex}"
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=subject)
    shared = {**limits(member=TWO_A_WHILE), "settings__redis_url": SecretStr(REDIS_URL)}
    one, two = edge_client(member, **shared), edge_client(member, **shared)
    # when
    first = await one.post("/graphql", json=TYPENAME)
    second = await two.post("/graphql", json=TYPENAME)
    third = await one.post("/graphql", json=TYPENAME)
    # then
    assert [first.status_code, second.status_code] == [200, 200]
    assert_limited(third)
    connection = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        ttl = await connection.pttl(f"{REDIS_PREFIX}sub:{subject}")
    finally:
        await connection.aclose()
    assert 0 < ttl <= 5_000


async def test_unreachable_redis_falls_back_to_local_buckets(edge_client, token, caplog):
    # given
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject="fallback")
    client = edge_client(
        member, **limits(member=TWO_A_WHILE), settings__redis_url=SecretStr("redis://127.0.0.1:1/0")
    )
    # when
    answers = await burst(client, 3)
    # then
    assert [answers[0].status_code, answers[1].status_code] == [200, 200]
    assert_limited(answers[2])
    assert "rate limits fall back to local buckets" in caplog.text


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture(autouse=True)
async def _close_redis_pools():
    yield
    await close_limiters()
