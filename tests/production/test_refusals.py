"""What the production profile refuses, each with its code: documents outside the manifest
(introspection among them), the development HS256 secret, a token with Keycloak's roles only."""

from __future__ import annotations

import time

import httpx
import jwt

from gateway.settings import DEVELOPMENT_JWT_SECRET
from tests.production.conftest import Profile, bearer

NOT_IN_MANIFEST = "query Mine { me { id fullName } }"
INTROSPECTION = "query IntrospectionQuery { __schema { types { name } } }"
NOT_ALLOWED = {
    "errors": [
        {
            "message": "Only operations from the trusted-documents manifest may run.",
            "extensions": {"code": "OPERATION_NOT_ALLOWED"},
        }
    ]
}


def _unauthenticated(message: str) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


async def test_a_document_outside_the_manifest_is_not_allowed(
    profile: Profile, client: httpx.AsyncClient
) -> None:
    # given
    token = profile.realm.access_token("member")
    # when
    response = await client.post("/graphql", json={"query": NOT_IN_MANIFEST}, headers=bearer(token))
    # then
    assert (response.status_code, response.json()) == (200, NOT_ALLOWED)


async def test_introspection_is_not_allowed_even_for_a_province_admin(
    profile: Profile, client: httpx.AsyncClient
) -> None:
    # given: province admins may introspect in production, but only manifest documents run
    token = profile.realm.access_token("province-admin")
    # when
    response = await client.post("/graphql", json={"query": INTROSPECTION}, headers=bearer(token))
    # then
    assert (response.status_code, response.json()) == (200, NOT_ALLOWED)


async def test_a_token_signed_with_the_development_secret_is_refused(
    profile: Profile, client: httpx.AsyncClient
) -> None:
    # given: the realm's own claims, signed HS256 with the public development secret
    claims = profile.realm.access_claims("province-admin")
    forged = jwt.encode(claims, DEVELOPMENT_JWT_SECRET, algorithm="HS256")
    # when
    response = await client.post(
        "/graphql", json={"query": NOT_IN_MANIFEST}, headers=bearer(forged)
    )
    # then
    assert response.status_code == 401
    assert response.json() == _unauthenticated("Signing algorithm 'HS256' is not accepted.")


async def test_a_token_with_keycloaks_default_roles_only_is_refused(
    profile: Profile, client: httpx.AsyncClient
) -> None:
    # given: offline_access, uma_authorization and default-roles-<realm>, no PilotGraph role
    token = profile.realm.access_token("nobody")
    assert (
        "offline_access"
        in jwt.decode(token, options={"verify_signature": False})["realm_access"]["roles"]
    )
    # when
    response = await client.post("/graphql", json={"query": NOT_IN_MANIFEST}, headers=bearer(token))
    # then
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["errors"][0]["message"] == (
        "The roles claim must be a non-empty list of known roles."
    )


async def test_an_expired_realm_token_is_refused(
    profile: Profile, client: httpx.AsyncClient
) -> None:
    # given: signed by the realm's current key, expired past the leeway
    expired = profile.realm.access_token("member", exp=int(time.time()) - 120)
    # when
    response = await client.post(
        "/graphql", json={"query": NOT_IN_MANIFEST}, headers=bearer(expired)
    )
    # then
    assert (response.status_code, response.json()) == (
        401,
        _unauthenticated("The bearer token has expired."),
    )
