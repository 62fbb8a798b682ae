"""Bearer JWT verification: HS256 secret, JWKS (RS256/ES256), and every refusal → 401."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.auth import AuthError, TokenVerifier
from gateway.settings import DEVELOPMENT_JWT_SECRET, Settings
from tests.graphql import gql

NOW = int(dt.datetime.now(dt.UTC).timestamp())
# Tokens in the parameters are built at import: a day's validity outlives any suite run.
VALID_FOR_S = 86_400


def claims(**overrides):
    base = {
        "sub": "m1",
        "roles": ["member"],
        "tenant": "yen-mo",
        "iss": "pilotgraph-dev",
        "aud": "pilotgraph",
        "exp": NOW + VALID_FOR_S,
    }
    return {k: v for k, v in (base | overrides).items() if v is not None}


def hs(payload, secret=DEVELOPMENT_JWT_SECRET):
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (hs(claims(exp=NOW - 3600)), "The bearer token has expired."),
        (
            hs(claims(), secret="another-secret-that-is-long-enough-for-hs256!!"),
            "The bearer token was refused: Signature verification failed.",
        ),
        (hs(claims(iss="someone-else")), "The bearer token was refused: Invalid issuer."),
        (hs(claims(aud="other")), "The bearer token was refused: Audience doesn't match."),
        (jwt.encode(claims(), None, algorithm="none"), "Signing algorithm 'none' is not accepted."),
        (hs(claims(roles=["emperor"])), "The roles claim must be a non-empty list of known roles."),
        (hs(claims(tenant=None)), "The tenant claim is required for tenant roles."),
        ("not.a.jwt", "The bearer token is malformed."),
    ],
)
async def test_bad_tokens_are_401(client_for, token, message):
    # given
    client = client_for(token)
    # when
    status, body = await gql(client, "{ tenant { slug } }")
    # then
    assert status == 401
    assert body == {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


async def test_non_bearer_scheme_is_401(client_for):
    # given
    client = client_for(headers={"Authorization": "Basic dXNlcjpwYXNz"})
    # when
    status, body = await gql(client, "{ tenant { slug } }")
    # then
    assert status == 401
    assert body["errors"][0]["message"] == "The Authorization header must be 'Bearer <token>'."


class _JwksHandler(BaseHTTPRequestHandler):
    keys: ClassVar[list[dict[str, object]]] = []
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = json.dumps({"keys": type(self).keys}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, type[_JwksHandler]]]:
    _JwksHandler.keys, _JwksHandler.hits = [], 0  # the tests run once per database
    server = HTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", _JwksHandler
    server.shutdown()
    server.server_close()


def _jwk(private_key, kid, alg):
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    public = json.loads(algorithm.to_jwk(private_key.public_key()))
    return public | {"kid": kid, "alg": alg, "use": "sig"}


async def test_jwks_rs256_and_es256_with_key_rotation(jwks_server, gateway):
    # given: an identity provider publishing one RSA key
    url, handler = jwks_server
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    handler.keys = [_jwk(rsa_key, "k1", "RS256")]
    verifier = TokenVerifier(
        Settings(
            jwks_url=url, jwt_issuer="https://idp", jwt_audience="pg", jwks_refresh_cooldown_s=0
        ),
        gateway.registry,
    )
    payload = claims(iss="https://idp", aud="pg")
    # when: an RS256 token, then the IdP rotates in an EC key and signs with it
    first = await verifier.verify(jwt.encode(payload, rsa_key, "RS256", headers={"kid": "k1"}))
    handler.keys = [*handler.keys, _jwk(ec_key, "k2", "ES256")]
    second = await verifier.verify(jwt.encode(payload, ec_key, "ES256", headers={"kid": "k2"}))
    # then
    assert (first.subject, first.tenant) == ("m1", "yen-mo")
    assert second.subject == "m1"
    assert handler.hits == 2  # fetched once, refetched only for the unknown kid


async def test_jwks_refuses_hs256_and_unknown_kid(jwks_server, gateway):
    # given: with a JWKS configured and no shared secret, HS256 tokens are not accepted
    url, handler = jwks_server
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    handler.keys = [_jwk(rsa_key, "k1", "RS256")]
    verifier = TokenVerifier(Settings(jwks_url=url, jwks_refresh_cooldown_s=0), gateway.registry)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # when / then
    with pytest.raises(AuthError, match=r"Signing algorithm 'HS256' is not accepted\."):
        await verifier.verify(hs(claims()))
    with pytest.raises(AuthError, match="No signing key for the bearer token"):
        await verifier.verify(jwt.encode(claims(), stranger, "RS256", headers={"kid": "zz"}))
