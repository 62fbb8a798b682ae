"""Webhook endpoints and the delivery log over GraphQL: who may, coded refusals, province wall."""

from __future__ import annotations

import pytest

from rollout import waves
from rollout.webhooks.delivery import RetryPolicy
from rollout.webhooks.dispatcher import Dispatcher
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, KEY, make_plan
from tests.rollout.webhook_receiver import Receiver

CREATE = """
mutation($url: String!, $events: [WebhookEventType!]) {
  createWebhookEndpoint(url: $url, events: $events, description: "ops") {
    endpoint { id url events createdBy } secret errors { field code message }
  }
}
"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret errors { code message } } }"
REMOVE = """
mutation($id: ID!) { removeWebhookEndpoint(id: $id) { endpoint { id } errors { code message } } }
"""
ENDPOINTS = "{ webhookEndpoints { id url events } }"
DELIVERIES = """
query($status: WebhookDeliveryStatus) {
  webhookDeliveries(status: $status) {
    eventType flag url status lastStatusCode attempts { attempt statusCode error }
  }
}
"""


@pytest.fixture
def ha_nam(token, client_for):
    return client_for(token(Role.PROVINCE_ADMIN, subject="ha-nam", province=world.OTHER_PROVINCE))


@pytest.fixture
async def receiver():
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def _create(client, url, events=None):
    status, body = await gql(client, CREATE, {"url": url, "events": events})
    assert status == 200, body
    return body["data"]["createWebhookEndpoint"]


async def test_a_province_admin_adds_an_endpoint_and_sees_its_secret_once(admin):
    # when
    created = await _create(admin, "https://hooks.example.org/pg", ["FLAG_KILLED"])
    _, listed = await gql(admin, ENDPOINTS)
    # then
    assert created["errors"] == []
    assert created["secret"].startswith("whsec_")
    assert created["endpoint"]["events"] == ["FLAG_KILLED"]
    assert created["endpoint"]["createdBy"] == ADMIN
    assert listed["data"]["webhookEndpoints"] == [
        {
            "id": created["endpoint"]["id"],
            "url": "https://hooks.example.org/pg",
            "events": ["FLAG_KILLED"],
        }
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.org/", "A webhook URL must start with http:// or https://."),
        ("http://127.0.0.1:8000/graphql", "A webhook cannot point at this gateway itself."),
    ],
)
async def test_a_bad_url_is_refused_and_nothing_is_written(admin, url, message):
    # when
    refused = await _create(admin, url)
    _, listed = await gql(admin, ENDPOINTS)
    # then
    assert refused["endpoint"] is None
    assert refused["secret"] is None
    assert refused["errors"] == [
        {"field": "url", "code": "INVALID_WEBHOOK_URL", "message": message}
    ]
    assert listed["data"]["webhookEndpoints"] == []


async def test_auditors_read_but_cannot_add(token, client_for):
    auditor = client_for(token(Role.AUDITOR, subject="inspector"))
    # when
    _status, body = await gql(auditor, CREATE, {"url": "https://hooks.example.org/"})
    _, read = await gql(auditor, ENDPOINTS)
    # then
    assert error_codes(body) == ["FORBIDDEN"]
    assert read["data"]["webhookEndpoints"] == []


async def test_tenant_admins_cannot_add(token, client_for):
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.KIM_SON))
    _, body = await gql(client, CREATE, {"url": "https://hooks.example.org/"})
    assert error_codes(body) == ["FORBIDDEN"]


async def test_another_province_neither_sees_nor_changes_the_endpoints(admin, ha_nam):
    # given
    created = await _create(admin, "https://hooks.example.org/pg")
    endpoint_id = created["endpoint"]["id"]
    # when
    _, seen = await gql(ha_nam, ENDPOINTS)
    _, rotated = await gql(ha_nam, ROTATE, {"id": endpoint_id})
    _, removed = await gql(ha_nam, REMOVE, {"id": endpoint_id})
    _, malformed = await gql(admin, REMOVE, {"id": "not-an-id"})
    # then
    assert seen["data"]["webhookEndpoints"] == []
    for body in (rotated["data"]["rotateWebhookSecret"], removed["data"]["removeWebhookEndpoint"]):
        assert body["errors"] == [
            {"code": "WEBHOOK_NOT_FOUND", "message": "There is no webhook endpoint with this id."}
        ]
    assert malformed["data"]["removeWebhookEndpoint"]["errors"][0]["code"] == "WEBHOOK_NOT_FOUND"
    _, still = await gql(admin, ENDPOINTS)
    assert [e["id"] for e in still["data"]["webhookEndpoints"]] == [endpoint_id]


async def test_the_delivery_log_is_read_in_graphql_and_only_in_its_province(
    gateway, admin, ha_nam, receiver
):
    # given: an endpoint, a started plan and one dispatcher round
    await _create(admin, receiver.url)
    async with gateway.sessionmaker() as session:
        await make_plan(session)
        await waves.step_forward(
            session=session,
            province_id="ninh-binh",
            flag_key=KEY,
            action=waves.Action.START,
            actor=ADMIN,
            now=world.NOW,
            kpis=FakeKpiSource(),
        )
        await session.commit()
    policy = RetryPolicy(timeout_s=2)
    await Dispatcher(
        gateway.sessionmaker, worker="w", policy=policy, clock=gateway.clock
    ).run_once()
    # when
    _, mine = await gql(admin, DELIVERIES, {"status": "DELIVERED"})
    _, theirs = await gql(ha_nam, DELIVERIES)
    # then
    assert mine["data"]["webhookDeliveries"] == [
        {
            "eventType": "ROLLOUT_STEP",
            "flag": KEY,
            "url": receiver.url,
            "status": "DELIVERED",
            "lastStatusCode": 200,
            "attempts": [{"attempt": 1, "statusCode": 200, "error": ""}],
        }
    ]
    assert theirs["data"]["webhookDeliveries"] == []


async def test_first_out_of_bounds_is_refused(admin):
    _, body = await gql(admin, "{ webhookDeliveries(first: 0) { id } }")
    assert error_codes(body) == ["BAD_USER_INPUT"]
