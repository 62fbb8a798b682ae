"""Webhooks from the outbox to a local receiver: signed, retried, logged, each attempt once.

On both databases, each replica with its own engine (the ``fresh`` database commits).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from db.engine import make_engine
from db.sessions import make_sessionmaker
from rollout import flags, waves
from rollout.models import FlagState
from rollout.webhooks import delivery, endpoints, log, signing
from rollout.webhooks.delivery import NO_OUTCOME, RetryPolicy
from rollout.webhooks.dispatcher import Dispatcher
from rollout.webhooks.models import DeliveryStatus, WebhookEvent
from rollout.webhooks.urls import OwnOrigins
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, KEY, make_plan
from tests.rollout.webhook_receiver import Receiver
from tests.world import NOW

POLICY = RetryPolicy(first_s=60, factor=2, cap_s=600, max_attempts=3, timeout_s=2)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def makers(fresh):
    engines = [make_engine(fresh.app_url) for _ in range(3)]
    yield [make_sessionmaker(e) for e in engines]
    for engine in engines:
        await engine.dispose()


async def _subscribe(maker, url: str) -> str:
    async with maker() as session:
        row = await endpoints.create(
            session=session,
            province_id="ninh-binh",
            url=url,
            events=[],
            description="ops",
            own=OwnOrigins(),
            actor=ADMIN,
            now=NOW - dt.timedelta(minutes=1),
        )
        await session.commit()
        return row.secret


async def _start_plan(maker) -> None:
    async with maker() as session:
        await make_plan(session)
        await waves.step_forward(
            session=session,
            province_id="ninh-binh",
            flag_key=KEY,
            action=waves.Action.START,
            actor=ADMIN,
            now=NOW,
            kpis=FakeKpiSource(),
        )
        await session.commit()


async def _log(maker):
    async with maker() as session:
        return await log.deliveries(session=session, province_id="ninh-binh")


async def test_a_rollout_step_is_posted_once_signed_with_its_event_id(makers, receiver):
    # given
    secret = await _subscribe(makers[0], receiver.url)
    await _start_plan(makers[0])
    dispatcher = Dispatcher(makers[1], worker="w1", policy=POLICY, clock=Clock())
    # when
    made = await dispatcher.run_once()
    again = await dispatcher.run_once()
    # then
    assert (made, again) == (1, 0)
    [got] = receiver.received
    h = got.headers
    assert signing.verify(
        secret,
        timestamp=h["x-pilotgraph-timestamp"],
        body=got.body,
        signature=h["x-pilotgraph-signature"],
        now=time.time(),
    )
    assert not signing.verify(
        secret,
        timestamp=h["x-pilotgraph-timestamp"],
        body=got.body + b" ",
        signature=h["x-pilotgraph-signature"],
        now=time.time(),
    )
    body = json.loads(got.body)
    assert (h["x-pilotgraph-event"], body["type"], body["action"]) == (
        "rollout.step",
        "rollout.step",
        "plan.start",
    )
    assert h["idempotency-key"] == body["id"]
    [entry] = await _log(makers[0])
    assert (entry.delivery.status, [a.status_code for a in entry.attempts]) == ("delivered", [200])


async def test_a_receiver_that_is_down_gets_the_event_when_it_comes_back(makers, receiver):
    # given: the receiver is down when the step happens
    await _subscribe(makers[0], receiver.url)
    await receiver.stop()
    await _start_plan(makers[0])
    clock = Clock()
    dispatcher = Dispatcher(makers[1], worker="w1", policy=POLICY, clock=clock)
    # when: one failed attempt, then nothing before the backoff, then the receiver is back
    await dispatcher.run_once()
    [down] = await _log(makers[0])
    clock.now = NOW + dt.timedelta(seconds=59)
    early = await dispatcher.run_once()
    await receiver.start()
    clock.now = NOW + dt.timedelta(seconds=61)
    late = await dispatcher.run_once()
    # then
    assert down.delivery.status == "pending"
    assert down.attempts[0].status_code is None
    assert "ConnectError" in down.attempts[0].error
    assert down.delivery.next_attempt_at == NOW + dt.timedelta(seconds=60)
    assert (early, late, len(receiver.received)) == (0, 1, 1)
    [entry] = await _log(makers[0])
    assert entry.delivery.status == "delivered"
    assert [a.attempt for a in entry.attempts] == [1, 2]


async def test_retries_back_off_exponentially_then_give_up(makers, receiver):
    # given: a receiver answering 500
    receiver.status = 500
    await _subscribe(makers[0], receiver.url)
    await _start_plan(makers[0])
    clock = Clock()
    dispatcher = Dispatcher(makers[1], worker="w1", policy=POLICY, clock=clock)
    # when
    waits = []
    for _ in range(POLICY.max_attempts):
        await dispatcher.run_once()
        [entry] = await _log(makers[0])
        waits.append((entry.delivery.next_attempt_at - clock.now).total_seconds())
        clock.now = entry.delivery.next_attempt_at
    # then: 60 s, then 120 s, then given up
    assert waits[:2] == [60, 120]
    assert entry.delivery.status == DeliveryStatus.FAILED
    assert [a.status_code for a in entry.attempts] == [500, 500, 500]
    assert entry.delivery.last_error.startswith("HTTP 500")


async def test_a_replica_that_dies_mid_attempt_leaves_it_to_another_after_its_lease(
    makers, receiver
):
    # given: the change is committed and a replica claimed its attempt, then died
    await _subscribe(makers[0], receiver.url)
    await _start_plan(makers[0])
    dead = Dispatcher(makers[1], worker="dead", policy=POLICY, clock=Clock())
    async with makers[1]() as session:
        await dead_fan_out(session)
    claims = await dead._claim()
    assert len(claims) == 1
    clock = Clock()
    survivor = Dispatcher(makers[2], worker="alive", policy=POLICY, clock=clock)
    # when
    within_lease = await survivor.run_once()
    clock.now = NOW + dt.timedelta(seconds=POLICY.lease_s + 1)
    after_lease = await survivor.run_once()
    # then: delivered by the survivor, same idempotency key; the log shows both attempts
    assert (within_lease, after_lease) == (0, 1)
    [got] = receiver.received
    assert got.headers["idempotency-key"] == str(claims[0].event_id)
    [entry] = await _log(makers[0])
    assert entry.delivery.status == "delivered"
    assert [(a.worker, a.error) for a in entry.attempts] == [("dead", NO_OUTCOME), ("alive", "")]


async def dead_fan_out(session) -> None:
    await delivery.fan_out(session=session, now=NOW)
    await session.commit()


async def test_a_change_committed_before_a_crash_is_delivered_by_a_fresh_replica(makers, receiver):
    # given: changes committed, no dispatcher ran (the replica crashed right after the commit)
    await _subscribe(makers[0], receiver.url)
    await _start_plan(makers[0])
    # when: a replica started afterwards runs
    made = await Dispatcher(makers[2], worker="new", policy=POLICY, clock=Clock()).run_once()
    # then
    assert made == 1
    assert len(receiver.received) == 1


async def test_replicas_racing_never_make_the_same_attempt(makers, receiver):
    # given: many events at once
    await _subscribe(makers[0], receiver.url)
    await _start_plan(makers[0])
    async with makers[0]() as session:
        flag = await flags.get_or_raise(session=session, province_id="ninh-binh", key=KEY)
        for n in range(8):
            await waves.pause(
                session=session,
                province_id="ninh-binh",
                flag_key=KEY,
                actor=ADMIN,
                reason=f"{n}",
                now=NOW,
            )
            await waves.resume(
                session=session,
                province_id="ninh-binh",
                flag_key=KEY,
                actor=ADMIN,
                reason=f"{n}",
                now=NOW,
            )
        await flags.update(
            session=session,
            province_id="ninh-binh",
            key=KEY,
            expected_version=flag.version,
            actor=ADMIN,
            reason="kill",
            now=NOW,
            state=FlagState.KILLED,
        )
        await session.commit()
        events = await session.scalar(select(func.count()).select_from(WebhookEvent))
    dispatchers = [
        Dispatcher(m, worker=f"w{n}", policy=POLICY, clock=Clock()) for n, m in enumerate(makers)
    ]
    # when
    made = await asyncio.gather(*(d.run_once() for d in dispatchers))
    # then: each event posted exactly once
    keys = [r.headers["idempotency-key"] for r in receiver.received]
    assert events == 18
    assert sum(made) == 18
    assert len(keys) == len(set(keys)) == 18
    types = sorted({json.loads(r.body)["type"] for r in receiver.received})
    assert types == ["flag.killed", "rollout.step"]


async def test_a_rolled_back_change_posts_nothing(makers, receiver):
    # given
    await _subscribe(makers[0], receiver.url)
    async with makers[0]() as session:
        await make_plan(session)
    async with makers[0]() as session:
        await waves.step_forward(
            session=session,
            province_id="ninh-binh",
            flag_key=KEY,
            action=waves.Action.START,
            actor=ADMIN,
            now=NOW,
            kpis=FakeKpiSource(),
        )
        await session.rollback()
    # when
    made = await Dispatcher(makers[1], worker="w", policy=POLICY, clock=Clock()).run_once()
    # then
    assert made == 0
    assert receiver.received == []
