"""Tokens from the identity provider's JWKS (Keycloak, RS256), verified as PilotGraph does."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from member_development.settings import DEVELOPMENT_JWT_SECRET, Settings, load_settings
from tests.conftest import error_codes, gql

ISSUER = "http://sso.test/realms/ninh-binh"
PROVINCE = '{ provinceMemberDevelopment(province: "ninh-binh", year: 2023) { admitted } }'
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _Jwks(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        body = json.dumps({"keys": [public | {"kid": "k1", "alg": "RS256", "use": "sig"}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(jwks_url: str) -> Settings:
    env = {"PILOTGRAPH_JWKS_URL": jwks_url, "PILOTGRAPH_JWT_ISSUER": ISSUER}
    return load_settings({**env, "PILOTGRAPH_ENVIRONMENT": "production"})


def keycloak_token(roles: list[str], key: Any = KEY, **claims: Any) -> str:
    """Keycloak's shape: realm_access.roles with its default roles, the province attribute."""
    now = dt.datetime.now(dt.UTC)
    body = {
        "sub": "f3c1",
        "iss": ISSUER,
        "aud": ["pilotgraph", "account"],
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
        "realm_access": {"roles": [*roles, "offline_access", "uma_authorization"]},
        "province": "ninh-binh",
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


async def test_a_keycloak_province_admin_reads_the_province(client_for):
    # given
    client = client_for(keycloak_token(["province_admin", "default-roles-ninh-binh"]))
    # when
    status, body = await gql(client, PROVINCE)
    # then
    assert status == 200
    assert body == {"data": {"provinceMemberDevelopment": {"admitted": 2360}}}


@pytest.mark.parametrize(
    ("token", "message"),
    [
        pytest.param(
            keycloak_token(["province_admin"], key=STRANGER),
            "The bearer token was refused: Signature verification failed.",
            id="another-key",
        ),
        pytest.param(
            jwt.encode(
                {
                    "sub": "x",
                    "iss": ISSUER,
                    "aud": "pilotgraph",
                    "roles": ["province_admin"],
                    "province": "ninh-binh",
                    "exp": 9999999999,
                },
                DEVELOPMENT_JWT_SECRET,
                algorithm="HS256",
            ),
            'The bearer token was refused: Unable to find a signing key that matches: "None".',
            id="hs256-with-the-development-secret",
        ),
        pytest.param(
            keycloak_token(["default-roles-ninh-binh"]),
            "The roles claim must be a non-empty list of known roles.",
            id="only-keycloak-default-roles",
        ),
    ],
)
async def test_other_tokens_are_refused(client_for, token, message):
    # given
    client = client_for(token)
    # when
    status, body = await gql(client, PROVINCE)
    # then
    assert status == 401
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == message


def test_a_jwks_needs_no_shared_secret_in_production(jwks_url):
    # when
    settings = load_settings(
        {"PILOTGRAPH_ENVIRONMENT": "production", "PILOTGRAPH_JWKS_URL": jwks_url}
    )
    # then
    assert settings.jwks_url == jwks_url
    assert settings.claim_roles == "realm_access.roles,roles"
