"""Trusted mode and the federation router: its own subgraph documents run, nobody else's do.

The router proves itself with ``X-Router-Token``; only a configured token opens the exemption (in
development without one every caller counts as the router for ``_service``, which must not open
trusted mode).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.edge.config import PersistedMode
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql

MANIFEST = Path(__file__).resolve().parents[2] / "clients" / "trusted-documents" / "manifest.json"
ROUTER_TOKEN = "router-secret-for-trusted-tests-0123456789"
AD_HOC = "query RouterFetch { tenant { slug name } }"
SERVICE = "{ _service { sdl } }"
NOT_ALLOWED = "Only operations from the trusted-documents manifest may run."


@pytest.fixture
def trusted_client(edge_client, token):
    """A member of Yen Mo on a trusted-mode gateway; ``router_token=None``: none configured."""

    def make(header: str | None, router_token: str | None = ROUTER_TOKEN):
        headers = {} if header is None else {"X-Router-Token": header}
        return edge_client(
            token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)),
            headers,
            persisted=PersistedMode.TRUSTED,
            trusted_manifest=str(MANIFEST),
            settings__router_token=None if router_token is None else SecretStr(router_token),
        )

    return make


async def test_the_router_with_the_configured_token_runs_its_own_document(trusted_client):
    # given
    client = trusted_client(ROUTER_TOKEN)
    # when
    status, body = await gql(client, AD_HOC)
    # then
    assert status == 200
    assert body == {"data": {"tenant": {"slug": "yen-mo", "name": "Đảng bộ huyện Yên Mô"}}}


@pytest.mark.parametrize(
    ("header", "router_token"),
    [
        pytest.param(None, ROUTER_TOKEN, id="no-header"),
        pytest.param("guess", ROUTER_TOKEN, id="wrong-token"),
        pytest.param(ROUTER_TOKEN[:-1], ROUTER_TOKEN, id="token-prefix"),
        pytest.param(None, None, id="development-without-router-token"),
        pytest.param("anything", None, id="development-any-header"),
    ],
)
async def test_anyone_else_is_held_to_the_manifest(trusted_client, header, router_token):
    # given
    client = trusted_client(header, router_token)
    # when
    status, body = await gql(client, AD_HOC)
    # then
    assert status in (200, 400)
    assert "data" not in body
    assert error_codes(body) == ["OPERATION_NOT_ALLOWED"]
    assert body["errors"][0]["message"] == NOT_ALLOWED


async def test_the_router_still_cannot_send_an_unknown_hash(trusted_client):
    # given
    client = trusted_client(ROUTER_TOKEN)
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    # when
    response = await client.post("/graphql", json={"extensions": persisted})
    # then
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_the_router_fields_answer_the_router_only(trusted_client):
    # given
    router, client = trusted_client(ROUTER_TOKEN), trusted_client("guess")
    # when
    _, served = await gql(router, SERVICE)
    _, refused = await gql(client, SERVICE)
    # then
    assert "@key" in served["data"]["_service"]["sdl"]
    assert error_codes(refused) == ["OPERATION_NOT_ALLOWED"]


async def test_outside_the_manifest_the_router_fields_keep_their_credential(edge_client):
    # given: APQ mode admits ad hoc documents, so the router credential is what refuses
    client = edge_client(
        headers={"X-Router-Token": "guess"},
        persisted=PersistedMode.APQ,
        settings__router_token=SecretStr(ROUTER_TOKEN),
    )
    # when
    _, body = await gql(client, SERVICE)
    # then
    assert error_codes(body) == ["ROUTER_CREDENTIAL_REQUIRED"]
