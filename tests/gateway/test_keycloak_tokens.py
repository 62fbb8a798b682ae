"""Tokens of a Keycloak realm (tests/keycloak.py) over the real app: roles, login, key rotation."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.app import create_app
from gateway.auth import AuthError, TokenVerifier
from gateway.state import GatewayState
from tests import world
from tests.graphql import asgi_client, gql
from tests.keycloak import KeycloakRealm, pkce_challenge, running_keycloak

ROLES_MESSAGE = "The roles claim must be a non-empty list of known roles."
ME_AND_TENANT = "{ me { fullName } tenant { slug } }"
TENANT = "{ tenant { slug } }"
REDIRECT = "http://testserver/admin/"


@pytest.fixture
def realm() -> Iterator[KeycloakRealm]:
    with running_keycloak() as started:
        yield started


def verifier_for(gateway: GatewayState, realm: KeycloakRealm, **settings: Any) -> TokenVerifier:
    configured = gateway.settings.model_copy(update=realm.gateway_settings() | settings)
    return TokenVerifier(configured, gateway.registry)


@pytest.fixture
async def kc_client(
    gateway: GatewayState, realm: KeycloakRealm
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """``kc_client(token)`` → a client on an app that trusts ``realm`` (and nothing else)."""
    verifier = verifier_for(gateway, realm)
    settings = gateway.settings.model_copy(update=realm.gateway_settings())
    state = dataclasses.replace(gateway, settings=settings, verifier=verifier)
    app = create_app(settings, state=state)
    clients: list[httpx.AsyncClient] = []

    def make(token: str) -> httpx.AsyncClient:
        clients.append(asgi_client(app, token))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def test_a_keycloak_member_reads_as_their_member(kc_client, realm):
    # given: realm_access.roles = member, offline_access, uma_authorization, default-roles-…
    client = kc_client(realm.access_token("member"))
    # when
    status, body = await gql(client, ME_AND_TENANT)
    # then: the member id attribute, not Keycloak's user UUID, names the member
    assert (status, body) == (
        200,
        {"data": {"me": {"fullName": "Trần Thị Bình"}, "tenant": {"slug": world.YEN_MO}}},
    )


async def test_a_keycloak_branch_secretary_reads_as_their_member(kc_client, realm):
    # given
    client = kc_client(realm.access_token("secretary"))
    # when
    status, body = await gql(client, "{ me { id } tenant { slug } }")
    # then
    assert status == 200
    assert body["data"]["tenant"] == {"slug": world.YEN_MO}
    assert body["data"]["me"]["id"]


@pytest.mark.parametrize(
    ("username", "roles", "tenant", "reads_province"),
    [
        ("tenant-admin", ["tenant_admin"], world.YEN_MO, False),
        ("province-admin", ["province_admin"], None, True),
        ("auditor", ["auditor"], None, True),
    ],
)
async def test_keycloak_admins_reach_the_console_with_exactly_their_role(
    kc_client, realm, username, roles, tenant, reads_province
):
    # given
    client = kc_client(realm.access_token(username))
    # when
    session = await client.get("/admin/api/session")
    status, body = await gql(client, TENANT, path=f"/t/{world.YEN_MO}/graphql")
    # then: Keycloak's own roles are dropped; no member id attribute → the subject is sub
    assert session.status_code == 200
    assert session.json() | {"canManageRollout": None} == {
        "subject": realm.users[username].id,
        "roles": roles,
        "tenant": tenant,
        "canManageRollout": None,
        "readsProvince": reads_province,
    }
    assert (status, body) == (200, {"data": {"tenant": {"slug": world.YEN_MO}}})


async def test_a_keycloak_user_with_no_pilotgraph_role_is_refused(kc_client, realm):
    # given: only offline_access, uma_authorization, default-roles-pilotgraph
    client = kc_client(realm.access_token("nobody"))
    # when
    status, body = await gql(client, TENANT)
    # then
    assert status == 401
    assert body == {
        "errors": [{"message": ROLES_MESSAGE, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


async def test_a_keycloak_admin_of_another_province_reads_nothing_of_yen_mo(kc_client, realm):
    # given: a province admin of Ha Nam
    token = realm.access_token("province-admin", province=world.OTHER_PROVINCE)
    client = kc_client(token)
    # when
    status, body = await gql(client, TENANT, path=f"/t/{world.YEN_MO}/graphql")
    # then
    assert status == 403
    assert body == {
        "errors": [
            {
                "message": f"Your role does not cover tenant '{world.YEN_MO}'.",
                "extensions": {"code": "FORBIDDEN_TENANT"},
            }
        ]
    }


async def test_an_expired_or_foreign_audience_keycloak_token_is_refused(kc_client, realm):
    # given
    expired = realm.access_token("member", exp=int(time.time()) - 3600)
    foreign = realm.access_token("member", aud=["account"])
    # when
    answers = [await gql(kc_client(token), TENANT) for token in (expired, foreign)]
    # then
    messages = [(status, body["errors"][0]["message"]) for status, body in answers]
    assert messages == [
        (401, "The bearer token has expired."),
        (401, "The bearer token was refused: Audience doesn't match."),
    ]


def _login(realm: KeycloakRealm, client: httpx.Client, username: str) -> dict[str, Any]:
    """The console's flow: authorization code with PKCE, then the token endpoint."""
    verifier = secrets.token_urlsafe(48)
    oidc = f"{realm.issuer}/protocol/openid-connect"
    params = {
        "client_id": realm.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid profile",
        "state": "st-1",
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        "login_hint": username,
    }
    back = client.get(f"{oidc}/auth", params=params)
    assert back.status_code == 302, back.text
    query = parse_qs(urlparse(back.headers["location"]).query)
    assert query["state"] == ["st-1"]
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "code_verifier": verifier,
        "client_id": realm.client_id,
        "redirect_uri": REDIRECT,
    }
    tokens = client.post(f"{oidc}/token", data=form)
    assert tokens.status_code == 200, tokens.text
    replay = client.post(f"{oidc}/token", data=form)
    assert replay.json() == {"error": "invalid_grant", "error_description": "Code not valid"}
    return tokens.json()


async def test_the_login_and_refresh_flow_give_tokens_the_gateway_accepts(kc_client, realm):
    # given: a realm whose access tokens live 60 seconds
    realm.access_token_lifespan_s = 60
    with httpx.Client() as http:
        tokens = _login(realm, http, "province-admin")
    async with httpx.AsyncClient() as http_async:
        # when: the console signs in, then refreshes its access token
        first = await kc_client(tokens["access_token"]).get("/admin/api/session")
        refreshed = await http_async.post(
            f"{realm.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": realm.client_id,
            },
        )
    # then
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (tokens["expires_in"], claims["exp"] - claims["iat"]) == (60, 60)
    assert first.json()["roles"] == ["province_admin"]
    assert refreshed.json()["access_token"] != tokens["access_token"]
    second = await kc_client(refreshed.json()["access_token"]).get("/admin/api/session")
    assert second.json()["subject"] == realm.users["province-admin"].id


async def test_a_rotated_key_is_fetched_once_and_old_tokens_still_verify(gateway, realm):
    # given: a verifier that has fetched the realm's first key
    verifier = verifier_for(gateway, realm, jwks_refresh_cooldown_s=0.5)
    old = realm.access_token("member")
    assert (await verifier.verify(old)).subject == str(world.YM_MEMBER_A)
    # when: the realm rotates its key, and the cooldown since that fetch has passed
    new_kid = realm.rotate_key()
    await asyncio.sleep(0.6)
    fresh = realm.access_token("member")
    principals = [await verifier.verify(token) for token in (fresh, fresh, old)]
    # then
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    assert {p.subject for p in principals} == {str(world.YM_MEMBER_A)}
    assert realm.jwks_hits == 2  # the first fetch, and one refetch for the new kid


async def test_unknown_kids_cannot_hammer_the_provider(gateway, realm):
    # given: a verifier with a 1 s refetch cooldown, which has fetched the JWKS once
    verifier = verifier_for(gateway, realm, jwks_refresh_cooldown_s=1.0)
    await verifier.verify(realm.access_token("member"))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = realm.access_claims("member")
    bogus = [jwt.encode(claims, stranger, "RS256", headers={"kid": f"x{i}"}) for i in range(60)]
    # when: 60 tokens with unknown kids, at once, within and after the cooldown
    refused = await asyncio.gather(*(_refusal(verifier, token) for token in bogus[:30]))
    await asyncio.sleep(1.1)
    refused += await asyncio.gather(*(_refusal(verifier, token) for token in bogus[30:]))
    # then: every one refused, and at most one refetch per cooldown
    assert all(message.startswith("No signing key for the bearer token") for message in refused)
    assert len(refused) == 60
    assert realm.jwks_hits == 2


async def test_a_new_kid_within_the_cooldown_is_refused_until_it_passes(gateway, realm):
    # given
    verifier = verifier_for(gateway, realm, jwks_refresh_cooldown_s=1.0)
    await verifier.verify(realm.access_token("member"))
    realm.rotate_key()
    fresh = realm.access_token("member")
    # when
    early = await _refusal(verifier, fresh)
    await asyncio.sleep(1.1)
    later = await verifier.verify(fresh)
    # then
    assert early.startswith("No signing key for the bearer token")
    assert later.subject == str(world.YM_MEMBER_A)
    assert realm.jwks_hits == 2


async def _refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthError) as caught:
        await verifier.verify(token)
    return caught.value.message
