"""A minimal OpenID Connect issuer for the console's login tests: code + PKCE (S256), and
refresh tokens (rotated: each one redeems once).

Its access tokens are signed like the gateway's development tokens, so the gateway verifies them
as usual, but live ``ttl_s`` seconds (Keycloak's default is 300). ``Issuer.stats`` counts the
discovery reads and the grants; ``Issuer.refusing`` makes every refresh fail, as a revoked
session does.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.settings import Settings
from tenants.demo.province import PROVINCE_ID
from tenants.types import Role
from tests.keycloak import loopback, pkce_challenge, read_form, serving

SUBJECT = "oidc-admin@province"
DEFAULT_TTL_S = 300


class Issuer:
    """The issuer's state: open codes and refresh tokens, counters, the refusal switch."""

    def __init__(self, base: str, ttl_s: int) -> None:
        self.base = base
        self.ttl_s = ttl_s
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self.refusing = False
        self.stats = {"discovery": 0, "authorization_code": 0, "refresh_token": 0}

    def grant(self) -> dict[str, Any]:
        """A fresh access token (``ttl_s``) and a refresh token that redeems once."""
        settings = Settings()
        now = int(time.time())
        claims = {
            "sub": SUBJECT,
            "roles": [Role.PROVINCE_ADMIN.value],
            "province": PROVINCE_ID,
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": now,
            "exp": now + self.ttl_s,
        }
        secret = settings.hs256_secret
        assert secret is not None
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens.add(refresh)
        return {
            "access_token": jwt.encode(claims, secret, algorithm="HS256"),
            "token_type": "Bearer",
            "expires_in": self.ttl_s,
            "refresh_token": refresh,
        }

    def code_is_good(self, form: dict[str, str]) -> bool:
        grant = self.codes.pop(str(form.get("code")), None)
        return (
            grant is not None
            and pkce_challenge(str(form.get("code_verifier"))) == grant["challenge"]
            and form.get("redirect_uri") == grant["redirect_uri"]
            and form.get("client_id") == grant["client_id"]
        )

    def refresh_is_good(self, form: dict[str, str]) -> bool:
        token = str(form.get("refresh_token"))
        if self.refusing or token not in self.refresh_tokens:
            return False
        self.refresh_tokens.discard(token)
        return True


def make_issuer(issuer: Issuer) -> Starlette:
    async def discovery(_request: Request) -> Response:
        issuer.stats["discovery"] += 1
        return JSONResponse(
            {
                "issuer": issuer.base,
                "authorization_endpoint": f"{issuer.base}/authorize",
                "token_endpoint": f"{issuer.base}/token",
            }
        )

    async def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        issuer.codes[code] = {
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
            "client_id": q["client_id"],
        }
        back = urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(f"{q['redirect_uri']}?{back}")

    async def token(request: Request) -> Response:
        form = await read_form(request)
        kind = str(form.get("grant_type"))
        check = {"authorization_code": issuer.code_is_good, "refresh_token": issuer.refresh_is_good}
        if kind not in check or not check[kind](form):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        issuer.stats[kind] += 1
        return JSONResponse(issuer.grant())

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
        ]
    )


@contextmanager
def running_issuer(port: int, *, ttl_s: int = DEFAULT_TTL_S) -> Iterator[Issuer]:
    """The fake issuer on a loopback port, in a thread; yields it (its URL is ``.base``)."""
    issuer = Issuer(f"http://127.0.0.1:{port}", ttl_s)
    with serving(make_issuer(issuer), loopback(port)):
        yield issuer
