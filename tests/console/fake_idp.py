"""A minimal OpenID Connect issuer for the console's login test: code + PKCE (S256) only.

Its access tokens are the gateway's development tokens, so the gateway verifies them as usual.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.auth import issue_development_token
from gateway.settings import Settings
from tenants.demo.province import PROVINCE_ID
from tenants.types import Role

SUBJECT = "oidc-admin@province"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_issuer(base: str) -> Starlette:
    codes: dict[str, dict[str, str]] = {}

    async def discovery(_request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
            }
        )

    async def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        codes[code] = {
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
            "client_id": q["client_id"],
        }
        back = urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(f"{q['redirect_uri']}?{back}")

    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        grant = codes.pop(str(form.get("code")), None)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or _s256(str(form.get("code_verifier"))) != grant["challenge"]
            or form.get("redirect_uri") != grant["redirect_uri"]
            or form.get("client_id") != grant["client_id"]
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access = issue_development_token(
            Settings(),
            subject=SUBJECT,
            roles=[Role.PROVINCE_ADMIN],
            tenant=None,
            province=PROVINCE_ID,
        )
        return JSONResponse({"access_token": access, "token_type": "Bearer"})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
        ]
    )


@contextmanager
def running_issuer(port: int) -> Iterator[str]:
    """The fake issuer on a loopback port, in a thread; yields its URL."""
    base = f"http://127.0.0.1:{port}"
    config: Any = uvicorn.Config(
        make_issuer(base), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
