"""The console's OpenID Connect login: authorization code + PKCE (RFC 7636, S256).

The browser makes the verifier and challenge and is redirected to the issuer; back on
``/admin/`` it sends the code and its verifier here, and the gateway redeems them at the
issuer's token endpoint (so the page's CSP stays ``connect-src 'self'``). The access token it
gets back is then used like any other bearer token.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.edge.http_spec import EdgeRefusal, check_json_depth
from gateway.responses import error_response
from gateway.settings import Settings

DISCOVERY = "/.well-known/openid-configuration"
TIMEOUT_S = 10.0


async def discover(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID configuration (authorization and token endpoints)."""
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        response = await client.get(issuer.rstrip("/") + DISCOVERY)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    return document


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.pilotgraph.settings
    return settings


async def config(request: Request) -> Response:
    """What the sign-in page offers: the token form, and the OIDC login when configured."""
    settings = _settings(request)
    if settings.oidc_issuer is None:
        return JSONResponse({"oidc": None})
    try:
        authorization = (await discover(settings.oidc_issuer))["authorization_endpoint"]
    except (httpx.HTTPError, ValueError, KeyError):
        return error_response(502, "OIDC_UNAVAILABLE", "The sign-in service does not answer.")
    oidc = {
        "authorizationEndpoint": authorization,
        "clientId": settings.oidc_client_id,
        "scope": settings.oidc_scope,
    }
    return JSONResponse({"oidc": oidc})


async def redeem(request: Request) -> Response:
    """Exchange ``{code, codeVerifier, redirectUri}`` for the issuer's access token."""
    settings = _settings(request)
    if settings.oidc_issuer is None:
        return error_response(404, "OIDC_NOT_CONFIGURED", "No OpenID Connect issuer is set.")
    raw = await request.body()
    try:
        check_json_depth(raw)
    except EdgeRefusal as exc:
        return error_response(exc.status, exc.code, exc.message)
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    keys = ("code", "codeVerifier", "redirectUri")
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in keys):
        return error_response(400, "BAD_USER_INPUT", "Send code, codeVerifier and redirectUri.")
    form = {
        "grant_type": "authorization_code",
        "client_id": settings.oidc_client_id,
        "code": body["code"],
        "code_verifier": body["codeVerifier"],
        "redirect_uri": body["redirectUri"],
    }
    try:
        document = await discover(settings.oidc_issuer)
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            answer = await client.post(document["token_endpoint"], data=form)
        token = answer.json().get("access_token") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError):
        return error_response(502, "OIDC_UNAVAILABLE", "The sign-in service does not answer.")
    if not isinstance(token, str):
        return error_response(401, "UNAUTHENTICATED", "The sign-in service refused the login.")
    return JSONResponse({"token": token}, headers={"cache-control": "no-store"})
