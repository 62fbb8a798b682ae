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
# Long enough that a loaded machine does the steps meant to fall within one cooldown in time.
COOLDOWN_S = 3.0


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
        "adjustsTenantRamp": roles == ["tenant_admin"],
        "name": realm.users[username].name or None,  # the token's claim (no member has this id)
        "timeZone": "Asia/Ho_Chi_Minh",  # the province's
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


async def test_a_rotated_key_is_fetched_at_once_and_old_tokens_still_verify(gateway, realm):
    # given: a verifier that has just fetched the realm's first key (a long cooldown)
    verifier = verifier_for(gateway, realm, jwks_refresh_cooldown_s=60)
    old = realm.access_token("member")
    assert (await verifier.verify(old)).subject == str(world.YM_MEMBER_A)
    # when: the realm rotates its key and signs with the new one
    new_kid = realm.rotate_key()
    fresh = realm.access_token("member")
    principals = [await verifier.verify(token) for token in (fresh, fresh, old)]
    # then
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    assert {p.subject for p in principals} == {str(world.YM_MEMBER_A)}
    assert realm.jwks_hits == 2  # the first fetch, and one refetch for the new kid


async def test_a_retired_key_stops_verifying_once_the_cache_expires(gateway, realm):
    # given: a token signed with the first key, then a rotation that retires it
    verifier = verifier_for(gateway, realm, jwks_cache_s=1)
    old_kid = realm.active_kid
    old = realm.access_token("member")
    await verifier.verify(old)
    realm.rotate_key()
    realm.retire_key(old_kid)
    # when: the cached key set expires
    await asyncio.sleep(1.1)
    message = await _refusal(verifier, old)
    # then
    assert message == (
        "No signing key for the bearer token: "
        f'Unable to find a signing key that matches: "{old_kid}".'
    )
    assert (await verifier.verify(realm.access_token("member"))).tenant == world.YEN_MO


def bogus_tokens(realm: KeycloakRealm, count: int) -> list[str]:
    """Well-formed tokens signed by a key the realm never published, each with its own kid."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = realm.access_claims("member")
    return [jwt.encode(claims, stranger, "RS256", headers={"kid": f"x{i}"}) for i in range(count)]


async def test_unknown_kids_cannot_hammer_the_provider(gateway, realm):
    # given: a verifier with a 3 s refetch cooldown, which has fetched the JWKS once
    verifier = verifier_for(gateway, realm, jwks_refresh_cooldown_s=COOLDOWN_S)
    await verifier.verify(realm.access_token("member"))
    bogus = bogus_tokens(realm, 60)
    # when: 30 tokens with unknown kids at once, then 30 more after the cooldown
    refused = await asyncio.gather(*(_refusal(verifier, token) for token in bogus[:30]))
    await asyncio.sleep(COOLDOWN_S + 0.1)
    refused += await asyncio.gather(*(_refusal(verifier, token) for token in bogus[30:]))
    # then: every one refused, with one refetch per cooldown
    assert refused[0] == (
        'No signing key for the bearer token: Unable to find a signing key that matches: "x0".'
    )
    assert all(message.startswith("No signing key for the bearer token:") for message in refused)
    assert len(refused) == 60
    assert realm.jwks_hits == 1 + 2


async def test_a_provider_that_is_down_gets_one_refetch_per_cooldown(gateway, realm):
    # given: keys fetched, then the certs endpoint fails
    verifier = verifier_for(gateway, realm, jwks_refresh_cooldown_s=60)
    member = realm.access_token("member")
    await verifier.verify(member)
    realm.certs_down = True
    # when: unknown kids keep coming
    refused = [await _refusal(verifier, token) for token in bogus_tokens(realm, 20)]
    # then: one failed attempt, not twenty; cached keys still verify
    assert refused[0].startswith("No signing key for the bearer token: Fail to fetch data")
    assert refused[1].endswith('Unable to find a signing key that matches: "x1".')
    assert realm.jwks_hits == 2
    assert (await verifier.verify(member)).subject == str(world.YM_MEMBER_A)


async def test_a_new_kid_within_the_cooldown_is_refused_until_it_passes(gateway, realm):
    # given: a refetch for a made-up kid has just started the cooldown
    verifier = verifier_for(gateway, realm, jwks_refresh_cooldown_s=COOLDOWN_S)
    await verifier.verify(realm.access_token("member"))
    await _refusal(verifier, bogus_tokens(realm, 1)[0])
    realm.rotate_key()
    fresh = realm.access_token("member")
    # when
    early = await _refusal(verifier, fresh)
    await asyncio.sleep(COOLDOWN_S + 0.1)
    later = await verifier.verify(fresh)
    # then
    assert early.startswith("No signing key for the bearer token: Unable to find a signing key")
    assert later.subject == str(world.YM_MEMBER_A)
    assert realm.jwks_hits == 3


async def test_a_token_without_kid_is_refused_without_a_fetch(gateway, realm):
    # given
    verifier = verifier_for(gateway, realm)
    claims = realm.access_claims("member")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # when
    message = await _refusal(verifier, jwt.encode(claims, key, "RS256"))
    # then
    assert message == "No signing key for the bearer token: The bearer token names no key (kid)."
    assert realm.jwks_hits == 0


async def _refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthError) as caught:
        await verifier.verify(token)
    return caught.value.message


# -- the realm itself refuses what Keycloak refuses ---------------------------------------------


def _auth_params(realm: KeycloakRealm, verifier: str, **overrides: str) -> dict[str, str]:
    params = {
        "client_id": realm.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        "state": "st-2",
    }
    return params | overrides


def test_the_realm_refuses_a_bad_client_redirect_or_pkce(realm):
    # given
    auth = f"{realm.issuer}/protocol/openid-connect/auth"
    token = f"{realm.issuer}/protocol/openid-connect/token"
    realm.redirect_uris = (REDIRECT,)
    with httpx.Client() as http:
        # when
        client = http.get(auth, params=_auth_params(realm, "v" * 43, client_id="other"))
        redirect = http.get(auth, params=_auth_params(realm, "v" * 43, redirect_uri="http://evil/"))
        plain = http.get(auth, params=_auth_params(realm, "v" * 43, code_challenge_method="plain"))
        back = http.get(auth, params=_auth_params(realm, "v" * 43, login_hint="member"))
        code = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
        form = {"client_id": realm.client_id, "redirect_uri": REDIRECT, "code": code}
        wrong = http.post(token, data=form | {"grant_type": "authorization_code"})
        grant = http.post(token, data=form | {"grant_type": "password"})
        refresh = http.post(token, data=form | {"grant_type": "refresh_token"})
    # then
    assert (client.status_code, client.text) == (400, "Client not found.")
    assert (redirect.status_code, redirect.text) == (400, "Invalid parameter: redirect_uri")
    assert plain.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE verification failed: Invalid code verifier",
    }
    assert grant.json()["error"] == "unsupported_grant_type"
    assert refresh.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid refresh token",
    }


def test_the_realm_signs_in_on_its_login_form(realm):
    # given
    auth = f"{realm.issuer}/protocol/openid-connect/auth"
    params = _auth_params(realm, "w" * 43)
    with httpx.Client() as http:
        # when
        page = http.get(auth, params=params)
        unknown = http.post(auth, data=params | {"username": "mallory"})
        signed_in = http.post(auth, data=params | {"username": "auditor"})
    # then
    assert page.status_code == 200
    assert 'name="username"' in page.text
    assert unknown.status_code == 400
    assert "Invalid username or password." in unknown.text
    assert signed_in.status_code == 302
    assert parse_qs(urlparse(signed_in.headers["location"]).query)["state"] == ["st-2"]
