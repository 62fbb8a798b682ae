"""Flags never fail because of the database: the snapshot serves, and the member's branch, when it
cannot be read, is evaluated with the documented fallback (rules on branch do not match; STALE).

Cases are generated over every flag of the registry, every rule attribute of the schema's
``RuleAttribute`` and the rule's place before or after a rule on branch.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.app import create_app
from gateway.member_branches import MemberBranches
from rollout import flags
from rollout.evaluation import ATTRIBUTE_TIMEOUT_S
from rollout.flag_catalogue import FlagKey
from rollout.runtime import RolloutRuntime
from rollout.snapshot import FlagStore
from schema.context import Context
from schema.rollout.mutations import RuleAttribute
from schema.root import schema
from tenants.identity import Principal
from tenants.types import Role
from tests import world
from tests.graphql import gql
from tests.rollout.server import wait_for

ONE = "/ofrep/v1/evaluate/flags/{key}"
BULK = "/ofrep/v1/evaluate/flags"
FEATURES = "{ features { key enabled variant reason } }"
FEATURES_CHANGED = "subscription { featuresChanged { key enabled variant reason } }"
MEMBER_A = str(world.YM_MEMBER_A)
# What member A of Yen Mo (branch A) has for each attribute a rule can match on.
MEMBER_A_VALUES = {
    RuleAttribute.TENANT: world.YEN_MO,
    RuleAttribute.ROLE: Role.MEMBER.value,
    RuleAttribute.BRANCH: str(world.YM_BRANCH_A),
    RuleAttribute.MEMBER: MEMBER_A,
}
ON_BRANCH_B = ({"branch": [str(world.YM_BRANCH_B)]}, "on")  # never member A's
STALE_METADATA = {"stale": True, "unavailableAttributes": "branch"}
# A read slower than the timeout answers within it; the margin covers the request around it.
MARGIN_S = 1.0

CASES = [
    pytest.param(key, attribute, first, id=f"{key.value}-{attribute.value}-{place}")
    for key in FlagKey
    for attribute in RuleAttribute
    for first, place in ((True, "first"), (False, "after-branch"))
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def dead_engine(database, tmp_path) -> AsyncIterator[Any]:
    """An engine on a database that cannot be reached: a closed port, a file SQLite cannot open."""
    if database.backend == "postgresql":
        url = f"postgresql+asyncpg://pilotgraph_app@127.0.0.1:{_closed_port()}/pilotgraph"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}"  # a directory, not a database file
    engine = make_engine(url, connect_timeout_s=1.0)
    yield engine
    await engine.dispose()


@pytest.fixture
def dead_sessionmaker(dead_engine) -> Any:
    return make_sessionmaker(dead_engine)


async def _configure(gateway, key: FlagKey, attribute: RuleAttribute, first: bool) -> None:
    """``key`` off by default, on by a rule on ``attribute`` that member A satisfies."""
    mine = ({attribute.value: [MEMBER_A_VALUES[attribute]]}, "on")
    async with gateway.sessionmaker() as session:
        flag = await flags.ensure(
            session=session,
            province_id=world.PROVINCE,
            key=key.value,
            actor="ops",
            now=world.NOW,
            default_variant="off",
        )
        await flags.set_rules(
            session=session,
            province_id=world.PROVINCE,
            key=key.value,
            rules=[mine, ON_BRANCH_B] if first else [ON_BRANCH_B, mine],
            expected_version=flag.version,
            actor="ops",
            reason="pilot",
            now=world.NOW,
        )
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)


def _expected_without_branch(attribute: RuleAttribute, first: bool) -> dict[str, Any]:
    """The fallback: rules on branch do not match; STALE once a rule on branch was passed over."""
    if attribute is RuleAttribute.BRANCH:
        return {"value": False, "variant": "off", "reason": "STALE", "stale": True}
    if first:
        return {"value": True, "variant": "on", "reason": "TARGETING_MATCH", "stale": False}
    return {"value": True, "variant": "on", "reason": "STALE", "stale": True}


def _ofrep_view(answer: dict[str, Any]) -> dict[str, Any]:
    metadata = answer["metadata"]
    stale = {k: metadata[k] for k in STALE_METADATA if k in metadata}
    if stale:
        assert stale == STALE_METADATA
    return {
        "value": answer["value"],
        "variant": answer["variant"],
        "reason": answer["reason"],
        "stale": bool(stale),
    }


async def _evaluate(client: httpx.AsyncClient, key: FlagKey) -> tuple[Any, Any, Any]:
    one = await client.post(ONE.format(key=key.value), json={"context": {}})
    bulk = await client.post(BULK, json={"context": {}})
    status, features = await gql(client, FEATURES)
    return one, bulk, (status, features)


@pytest.mark.parametrize(("key", "attribute", "first"), CASES)
async def test_the_database_down_never_fails_an_evaluation(
    gateway, token, client_for, dead_sessionmaker, key, attribute, first
):
    # given: the rule configured and loaded; member A's branch cached by one OFREP evaluation
    await _configure(gateway, key, attribute, first)
    member = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=MEMBER_A))
    warm = await member.post(ONE.format(key=key.value), json={"context": {}})
    # when: the database goes away; then the cached branch expires (a fresh map)
    gateway.sessionmaker = dead_sessionmaker
    await gateway.flags.reload(dead_sessionmaker)  # a failed reload keeps the snapshot
    cached_one, cached_bulk, _ = await _evaluate(member, key)
    gateway.branches = MemberBranches()
    one, bulk, (status, features) = await _evaluate(member, key)
    # then: with the branch cached, the rule on it still matches
    assert warm.status_code == 200
    matched = {"value": True, "variant": "on", "reason": "TARGETING_MATCH", "stale": False}
    assert (cached_one.status_code, _ofrep_view(cached_one.json())) == (200, matched)
    assert cached_bulk.status_code == 200
    # then: without it, 200 and the documented fallback, single, bulk and GraphQL alike
    expected = _expected_without_branch(attribute, first)
    assert (one.status_code, _ofrep_view(one.json())) == (200, expected)
    assert bulk.status_code == 200
    by_key = {f["key"]: f for f in bulk.json()["flags"]}
    assert set(by_key) == {k.value for k in FlagKey}
    assert _ofrep_view(by_key[key.value]) == expected
    assert (status, features.get("errors")) == (200, None)
    feature = next(f for f in features["data"]["features"] if f["key"] == key.value)
    assert feature == {
        "key": key.value,
        "enabled": expected["value"],
        "variant": expected["variant"],
        "reason": expected["reason"],
    }


async def test_the_fallback_is_not_the_answer_of_a_readable_branch(
    gateway, token, client_for, dead_sessionmaker
):
    # given: the bulk ETag of a member whose branch is read (an admin: no branch at all)
    await _configure(gateway, FlagKey.NOTICES, RuleAttribute.BRANCH, True)
    admin = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO, subject=str(uuid.uuid4())))
    readable = await admin.post(BULK, json={"context": {}})
    gateway.sessionmaker = dead_sessionmaker
    gateway.branches = MemberBranches()
    # when
    fallback = await admin.post(
        BULK, json={"context": {}}, headers={"If-None-Match": readable.headers["ETag"]}
    )
    # then: not 304 — the fallback answers something else (STALE), under another ETag
    assert (readable.status_code, fallback.status_code) == (200, 200)
    assert fallback.headers["ETag"] != readable.headers["ETag"]


async def test_a_snapshot_never_loaded_serves_the_registry_defaults(
    gateway, token, client_for, dead_engine, dead_sessionmaker
):
    # given: the rollout runtime starts with the database down, so its first load fails
    gateway.flags = FlagStore()
    gateway.sessionmaker = dead_sessionmaker
    runtime = RolloutRuntime(dead_engine, dead_sessionmaker, gateway.flags, kpis=gateway.kpis)
    await runtime.start()
    member = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=MEMBER_A))
    # when
    bulk = await member.post(BULK, json={"context": {}})
    status, features = await gql(member, FEATURES)
    await runtime.stop()
    # then
    assert bulk.status_code == 200
    assert [(f["key"], f["value"], f["reason"]) for f in bulk.json()["flags"]] == [
        (key.value, True, "STATIC") for key in sorted(FlagKey, key=lambda k: k.value)
    ]
    assert (status, features.get("errors")) == (200, None)
    assert {f["reason"] for f in features["data"]["features"]} == {"STATIC"}


async def test_features_changed_starts_with_the_fallback(gateway, dead_sessionmaker):
    # given: the branch rule loaded, then the database gone
    await _configure(gateway, FlagKey.NOTICES, RuleAttribute.BRANCH, True)
    principal = Principal(subject=MEMBER_A, roles=frozenset({Role.MEMBER}), tenant=world.YEN_MO)
    async with dead_sessionmaker() as session:
        context = Context(
            request=None,
            response=None,
            session=session,
            principal=principal,
            tenant=gateway.registry.get(world.YEN_MO),
            registry=gateway.registry,
            now=world.NOW,
            install_key=gateway.install_key,
            kpis=gateway.kpis,
            flags=gateway.flags,
        )
        # when
        stream = await schema.subscribe(FEATURES_CHANGED, context_value=context)
        first = await asyncio.wait_for(anext(stream), timeout=ATTRIBUTE_TIMEOUT_S + MARGIN_S)
        await stream.aclose()
        await context.close()
    # then
    assert first.errors is None
    notices = next(f for f in first.data["featuresChanged"] if f["key"] == FlagKey.NOTICES.value)
    assert notices == {
        "key": FlagKey.NOTICES.value,
        "enabled": False,
        "variant": "off",
        "reason": "STALE",
    }


@contextlib.asynccontextmanager
async def _members_locked(fresh) -> AsyncIterator[None]:
    """Hold a lock that makes every read of ``members`` in ``fresh`` wait (a hung database)."""
    if fresh.backend == "postgresql":
        admin = await asyncpg.connect(fresh.admin_url.replace("postgresql+asyncpg", "postgresql"))
        transaction = admin.transaction()
        await transaction.start()
        await admin.execute("LOCK TABLE members IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            await transaction.rollback()
            await admin.close()
        return
    path = fresh.app_url.split(":///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE members SET full_name = full_name")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextlib.asynccontextmanager
async def _served(app) -> AsyncIterator[str]:
    """The app behind a real HTTP server on a free port: the answer leaves once it is sent."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    if not await wait_for(started, timeout_s=10):
        raise RuntimeError("the server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_a_hanging_branch_read_answers_within_the_timeout(gateway, token, fresh):
    # given: the branch rule loaded; reads of members wait on a lock held elsewhere
    await _configure(gateway, FlagKey.NOTICES, RuleAttribute.BRANCH, True)
    hung = make_engine(fresh.app_url)
    gateway.sessionmaker = make_sessionmaker(hung)
    headers = {
        "Authorization": f"Bearer {token(Role.MEMBER, tenant=world.YEN_MO, subject=MEMBER_A)}"
    }
    timings: dict[str, float] = {}
    async with (
        _members_locked(fresh),
        _served(create_app(gateway.settings, state=gateway)) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client,
    ):
        # when
        started = time.monotonic()
        one = await client.post(ONE.format(key=FlagKey.NOTICES.value), json={"context": {}})
        timings["one"] = time.monotonic() - started
        started = time.monotonic()
        status, features = await gql(client, FEATURES)
        timings["features"] = time.monotonic() - started
    # the reads that outlived their requests end once the lock goes
    await asyncio.gather(*gateway.branches._reads.values(), return_exceptions=True)
    await hung.dispose()
    # then
    assert (one.status_code, one.json()["reason"], one.json()["value"]) == (200, "STALE", False)
    assert (status, features.get("errors")) == (200, None)
    notices = next(f for f in features["data"]["features"] if f["key"] == FlagKey.NOTICES.value)
    assert notices["reason"] == "STALE"
    assert all(t < ATTRIBUTE_TIMEOUT_S + MARGIN_S for t in timings.values()), timings
    assert all(t >= ATTRIBUTE_TIMEOUT_S * 0.9 for t in timings.values()), timings


async def test_a_slow_read_is_made_once_and_fills_the_cache_when_it_ends(fresh):
    # given: reads of members wait on a lock; a map that counts its reads
    engine = make_engine(fresh.app_url)
    maker = make_sessionmaker(engine)
    reads = []

    def counting():
        reads.append(1)
        return maker()

    branches = MemberBranches(timeout_s=0.3)

    async def branch() -> str | None:
        return await branches.branch_of(counting, tenant_id=world.YEN_MO, subject=MEMBER_A)

    async with _members_locked(fresh):
        # when: two evaluations wait for the same member at once
        waited = await asyncio.gather(branch(), branch(), return_exceptions=True)
        pending = list(branches._reads.values())
    await asyncio.gather(*pending)  # the lock is gone: the read ends
    again = await branch()
    await engine.dispose()
    # then: both fell back, one read was made, and its result serves from the cache
    assert [type(w).__name__ for w in waited] == ["BranchUnavailable"] * 2
    assert (len(pending), len(reads), again) == (1, 1, str(world.YM_BRANCH_A))
