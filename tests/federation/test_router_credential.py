"""``_service`` and ``_entities`` answer only the router's shared secret (X-Router-Token)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from gateway.auth import router_allowed
from gateway.settings import Environment, Settings
from tests.conftest import make_settings
from tests.graphql import error_codes, gql

ROUTER_TOKEN = "router-secret-for-tests-0123456789"
SERVICE = "{ _service { sdl } }"
SERVICE_IN_FRAGMENT = "query { ...F } fragment F on Query { _service { sdl } }"
ENTITIES = '{ _entities(representations: [{__typename: "Tenant", slug: "yen-mo"}]) { __typename } }'


@pytest.fixture
def settings(database) -> Settings:
    return make_settings(database, router_token=SecretStr(ROUTER_TOKEN))


@pytest.mark.parametrize("document", [SERVICE, SERVICE_IN_FRAGMENT, ENTITIES])
async def test_without_the_router_token_the_router_fields_are_refused(client_for, document):
    # given
    client = client_for()
    # when
    status, body = await gql(client, document)
    # then
    assert "data" not in body or body["data"] is None
    assert status in (200, 400)
    assert error_codes(body) == ["ROUTER_CREDENTIAL_REQUIRED"]
    assert body["errors"][0]["message"].endswith("is reserved for the federation router.")


async def test_a_wrong_router_token_is_refused(client_for):
    # given
    client = client_for(headers={"X-Router-Token": "guess"})
    # when
    _, body = await gql(client, SERVICE)
    # then
    assert error_codes(body) == ["ROUTER_CREDENTIAL_REQUIRED"]


async def test_the_router_token_opens_the_service_sdl(client_for):
    # given
    client = client_for(headers={"X-Router-Token": ROUTER_TOKEN})
    # when
    status, body = await gql(client, SERVICE)
    # then
    assert status == 200
    assert "@key" in body["data"]["_service"]["sdl"]


async def test_other_fields_need_no_router_token(client_for, token):
    # given
    from tenants.types import Role

    client = client_for(token(Role.MEMBER, tenant="yen-mo"))
    # when
    _, body = await gql(client, "{ tenant { slug } }")
    # then
    assert body == {"data": {"tenant": {"slug": "yen-mo"}}}


def test_production_without_a_router_token_refuses_the_router_fields():
    # given
    production = Settings(
        environment=Environment.PRODUCTION,
        jwt_secret=SecretStr("x" * 40),
        install_token_key=SecretStr("i" * 32),
    )
    development = Settings()
    # when / then
    assert router_allowed(production, None) is False
    assert router_allowed(development, None) is True
    assert router_allowed(None, ROUTER_TOKEN) is False
