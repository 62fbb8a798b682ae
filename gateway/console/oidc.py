"""The console's OpenID Connect login: authorization code + PKCE (RFC 7636, S256), and refresh.

The browser makes the verifier and challenge and is redirected to the issuer; back on
``/admin/`` it sends the code and its verifier here, and the gateway redeems them at the
issuer's token endpoint (so the page's CSP stays ``connect-src 'self'``). The access token it
gets back is then used like any other bearer token. Keycloak's access tokens live 5 minutes by
default: before one expires the console sends its refresh token here, and the gateway redeems
it at the same endpoint. The issuer's configuration is read once per process (``Discovery``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.console.discovery import TIMEOUT_S, Discovery, DiscoveryFailed
from gateway.edge.http_spec import EdgeRefusal, check_json_depth
from gateway.responses import error_response
from gateway.settings import Settings

UNAVAILABLE = "The sign-in service does not answer."


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.pilotgraph.settings
    return settings


def _discovery(request: Request, issuer: str) -> Discovery:
    """This process's discovery of ``issuer``, made on the first sign-in."""
    discovery: Discovery | None = getattr(request.app.state, "oidc_discovery", None)
    if discovery is None or discovery.issuer != issuer:
        discovery = request.app.state.oidc_discovery = Discovery(issuer)
    return discovery


async def config(request: Request) -> Response:
    """What the sign-in page offers: the token form, and the OIDC login when configured."""
    settings = _settings(request)
    if settings.oidc_issuer is None:
        return JSONResponse({"oidc": None})
    try:
        endpoints = await _discovery(request, settings.oidc_issuer).endpoints()
    except DiscoveryFailed:
        return error_response(502, "OIDC_UNAVAILABLE", UNAVAILABLE)
    oidc = {
        "authorizationEndpoint": endpoints["authorization_endpoint"],
        "clientId": settings.oidc_client_id,
        "scope": settings.oidc_scope,
    }
    return JSONResponse({"oidc": oidc})


async def _json_fields(
    request: Request, keys: tuple[str, ...], wanted: str
) -> dict[str, str] | Response:
    """The request's JSON object with a string for each of ``keys``, or the answer refusing
    it: 404 without an issuer, 400 for a malformed body."""
    if _settings(request).oidc_issuer is None:
        return error_response(404, "OIDC_NOT_CONFIGURED", "No OpenID Connect issuer is set.")
    raw = await request.body()
    try:
        check_json_depth(raw)
    except EdgeRefusal as exc:
        return error_response(exc.status, exc.code, exc.message)
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in keys):
        return error_response(400, "BAD_USER_INPUT", wanted)
    return {k: body[k] for k in keys}


async def _grant(request: Request, form: dict[str, str], refused: str) -> Response:
    """Post ``form`` to the issuer's token endpoint; answer the console's grant or a refusal."""
    settings = _settings(request)
    assert settings.oidc_issuer is not None  # _json_fields refused the request otherwise
    try:
        endpoints = await _discovery(request, settings.oidc_issuer).endpoints()
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            answer = await client.post(
                endpoints["token_endpoint"], data={"client_id": settings.oidc_client_id, **form}
            )
        issued: Any = answer.json() if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError, DiscoveryFailed):
        return error_response(502, "OIDC_UNAVAILABLE", UNAVAILABLE)
    token = issued.get("access_token") if isinstance(issued, dict) else None
    if not isinstance(token, str):
        return error_response(401, "UNAUTHENTICATED", refused)
    grant = {
        "token": token,
        "refreshToken": _string(issued.get("refresh_token")),
        "expiresIn": _seconds(issued.get("expires_in")),
    }
    return JSONResponse(grant, headers={"cache-control": "no-store"})


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _seconds(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def redeem(request: Request) -> Response:
    """Exchange ``{code, codeVerifier, redirectUri}`` for ``{token, refreshToken, expiresIn}``."""
    body = await _json_fields(
        request, ("code", "codeVerifier", "redirectUri"), "Send code, codeVerifier and redirectUri."
    )
    if isinstance(body, Response):
        return body
    form = {
        "grant_type": "authorization_code",
        "code": body["code"],
        "code_verifier": body["codeVerifier"],
        "redirect_uri": body["redirectUri"],
    }
    return await _grant(request, form, "The sign-in service refused the login.")


async def refresh(request: Request) -> Response:
    """Exchange ``{refreshToken}`` for a new ``{token, refreshToken, expiresIn}``."""
    body = await _json_fields(request, ("refreshToken",), "Send refreshToken.")
    if isinstance(body, Response):
        return body
    form = {"grant_type": "refresh_token", "refresh_token": body["refreshToken"]}
    return await _grant(request, form, "The sign-in service refused to renew the session.")
