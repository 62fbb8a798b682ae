"""A local OpenID provider shaped like a Keycloak realm, for tests that need real RS256 tokens.

It serves the endpoints of ``http://127.0.0.1:<port>/realms/<realm>`` that PilotGraph and its
console use, answering as Keycloak does:

- ``/.well-known/openid-configuration`` (discovery);
- ``/protocol/openid-connect/certs``: the JWKS (RS256); :meth:`KeycloakRealm.rotate_key` adds a
  key and signs with it from then on, as a realm's key rotation does; ``jwks_hits`` counts fetches;
- ``/protocol/openid-connect/auth``: authorization code with PKCE (S256 only), consent given
  automatically; the user is picked by ``login_hint=<username>`` or on a tiny login form;
- ``/protocol/openid-connect/token``: the ``authorization_code`` and ``refresh_token`` grants.

Access tokens have Keycloak's shape (``realm_access.roles`` with ``offline_access``,
``uma_authorization`` and ``default-roles-<realm>``, ``typ: Bearer``, ``azp``, ``aud`` of
``account`` and the configured audience, ``preferred_username``, ``name``) plus the user attributes
``tenant``, ``province`` and ``member_id`` that the protocol mappers of docs/DEPLOY.md add.

    with running_keycloak() as realm:
        token = realm.access_token("member")
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests import world

REALM = "pilotgraph"
CLIENT_ID = "pilotgraph-console"
AUDIENCE = "pilotgraph"
# Realm roles Keycloak gives every user of a new realm; PilotGraph must ignore them.
KEYCLOAK_DEFAULT_ROLES = ("offline_access", "uma_authorization")


@dataclass(frozen=True)
class KeycloakUser:
    """A realm user: realm roles and the user attributes the protocol mappers put in tokens."""

    username: str
    roles: tuple[str, ...]
    attributes: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))  # Keycloak's sub: a UUID


def demo_users() -> dict[str, KeycloakUser]:
    """One user per PilotGraph role, on the test world's tenants, provinces and members."""
    users = [
        KeycloakUser(
            "member",
            ("member",),
            {"tenant": world.YEN_MO, "member_id": str(world.YM_MEMBER_A)},
            "Trần Thị Bình",
        ),
        KeycloakUser(
            "secretary",
            ("branch_secretary",),
            {"tenant": world.YEN_MO, "member_id": str(world.YM_SECRETARY_A)},
            "Branch Secretary",
        ),
        KeycloakUser("tenant-admin", ("tenant_admin",), {"tenant": world.YEN_MO}, "Yen Mo Admin"),
        KeycloakUser(
            "province-admin", ("province_admin",), {"province": world.PROVINCE}, "Province Admin"
        ),
        KeycloakUser("auditor", ("auditor",), {"province": world.PROVINCE}, "Auditor"),
        KeycloakUser("nobody", (), {"tenant": world.YEN_MO}, "No PilotGraph Role"),
    ]
    return {user.username: user for user in users}


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, read without python-multipart."""
    return {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@dataclass
class _Grant:
    username: str
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: str


class KeycloakRealm:
    """One realm: its users, signing keys, codes and sessions; :attr:`app` serves it."""

    def __init__(
        self,
        base: str,
        *,
        realm: str = REALM,
        audience: str = AUDIENCE,
        client_id: str = CLIENT_ID,
        redirect_uris: tuple[str, ...] = ("*",),
        users: Mapping[str, KeycloakUser] | None = None,
        access_token_lifespan_s: int = 300,
        refresh_token_lifespan_s: int = 1800,
    ) -> None:
        self.realm = realm
        self.issuer = f"{base}/realms/{realm}"
        self.audience = audience
        self.client_id = client_id
        self.redirect_uris = redirect_uris
        self.users = dict(demo_users() if users is None else users)
        self.access_token_lifespan_s = access_token_lifespan_s
        self.refresh_token_lifespan_s = refresh_token_lifespan_s
        self.jwks_hits = 0
        self.certs_down = False  # the certs endpoint answers 503, as a realm being restarted
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, tuple[_Grant, float]] = {}
        self._lock = threading.Lock()
        self.rotate_key()
        self.app = self._make_app()

    # -- keys ---------------------------------------------------------------------------------

    def rotate_key(self) -> str:
        """Add a new RSA key to the JWKS and sign with it from now on; returns its ``kid``."""
        kid = secrets.token_urlsafe(16)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with self._lock:
            self._keys.append((kid, key))
        return kid

    def retire_key(self, kid: str) -> None:
        """Drop a key from the JWKS (tokens it signed stop verifying once the cache refreshes)."""
        with self._lock:
            self._keys = [(k, key) for k, key in self._keys if k != kid]

    @property
    def active_kid(self) -> str:
        return self._keys[-1][0]

    def jwks(self) -> dict[str, Any]:
        """The public keys, as Keycloak's certs endpoint lists them."""
        keys = []
        for kid, key in self._keys:
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append(public | {"kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def sign(self, claims: Mapping[str, Any], *, kid: str | None = None) -> str:
        """Sign ``claims`` with the active key (or the key ``kid``), RS256, as the realm does."""
        kid = kid or self.active_kid
        key = dict(self._keys)[kid]
        return jwt.encode(dict(claims), key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})

    # -- tokens -------------------------------------------------------------------------------

    def access_claims(self, username: str, *, scope: str = "openid profile") -> dict[str, Any]:
        """The claims of an access token for ``username``, shaped as Keycloak issues them."""
        user = self.users[username]
        now = int(time.time())
        claims: dict[str, Any] = {
            "exp": now + self.access_token_lifespan_s,
            "iat": now,
            "auth_time": now,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": [self.audience, "account"],
            "sub": user.id,
            "typ": "Bearer",
            "azp": self.client_id,
            "sid": str(uuid.uuid4()),
            "acr": "1",
            "allowed-origins": ["/*"],
            "realm_access": {
                "roles": [*user.roles, *KEYCLOAK_DEFAULT_ROLES, f"default-roles-{self.realm}"]
            },
            "resource_access": {
                "account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}
            },
            "scope": scope,
            "email_verified": False,
            "name": user.name or None,  # Keycloak leaves the claim out for a user with no name
            "preferred_username": user.username,
        }
        return {k: v for k, v in claims.items() if v is not None} | dict(user.attributes)

    def access_token(self, username: str, **overrides: Any) -> str:
        """A signed access token for ``username``; ``overrides`` replace claims (None drops one)."""
        claims = self.access_claims(username) | overrides
        return self.sign({k: v for k, v in claims.items() if v is not None})

    def _id_token(self, grant: _Grant) -> str:
        user = self.users[grant.username]
        now = int(time.time())
        claims = {
            "exp": now + self.access_token_lifespan_s,
            "iat": now,
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": user.id,
            "typ": "ID",
            "azp": grant.client_id,
            "preferred_username": user.username,
        } | ({"name": user.name} if user.name else {})
        return self.sign(claims | ({"nonce": grant.nonce} if grant.nonce else {}))

    def _token_response(self, grant: _Grant) -> JSONResponse:
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = (grant, time.time() + self.refresh_token_lifespan_s)
        body = {
            "access_token": self.access_token(grant.username, scope=grant.scope),
            "expires_in": self.access_token_lifespan_s,
            "refresh_expires_in": self.refresh_token_lifespan_s,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": grant.scope,
        }
        if "openid" in grant.scope.split():
            body["id_token"] = self._id_token(grant)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def end_sessions(self, username: str) -> None:
        """Revoke every refresh token of ``username`` (an administrator's "sign out")."""
        with self._lock:
            self._refresh = {
                t: (g, exp) for t, (g, exp) in self._refresh.items() if g.username != username
            }

    # -- endpoints ----------------------------------------------------------------------------

    def _redirect_allowed(self, uri: str) -> bool:
        # Keycloak's valid redirect URIs: exact, or a prefix ending in a wildcard.
        return any(
            uri == allowed or (allowed.endswith("*") and uri.startswith(allowed[:-1]))
            for allowed in self.redirect_uris
        )

    async def _discovery(self, _request: Request) -> Response:
        oidc = f"{self.issuer}/protocol/openid-connect"
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{oidc}/auth",
                "token_endpoint": f"{oidc}/token",
                "jwks_uri": f"{oidc}/certs",
                "end_session_endpoint": f"{oidc}/logout",
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            }
        )

    async def _certs(self, _request: Request) -> Response:
        with self._lock:
            self.jwks_hits += 1
            body = self.jwks()
        if self.certs_down:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return JSONResponse(body)

    async def _auth(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params |= await read_form(request)
        refused = self._refuse_auth(params)
        if refused is not None:
            return refused
        username = params.get("username") or params.get("login_hint")
        if not username:
            return self._login_form(params)
        if username not in self.users:
            return self._login_form(params, error="Invalid username or password.")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            username=username,
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            challenge=params["code_challenge"],
            nonce=params.get("nonce"),
            scope=params.get("scope", "openid"),
        )
        back = {"code": code, "session_state": str(uuid.uuid4()), "iss": self.issuer}
        back |= {"state": params["state"]} if "state" in params else {}
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", status_code=302)

    def _refuse_auth(self, params: Mapping[str, str]) -> Response | None:
        # Keycloak shows an error page (no redirect) for a bad client or redirect URI.
        if params.get("client_id") != self.client_id:
            return HTMLResponse("Client not found.", status_code=400)
        if not self._redirect_allowed(params.get("redirect_uri", "")):
            return HTMLResponse("Invalid parameter: redirect_uri", status_code=400)
        if params.get("response_type") != "code":
            return HTMLResponse("Invalid parameter: response_type", status_code=400)
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return HTMLResponse("Missing parameter: code_challenge_method", status_code=400)
        return None

    def _login_form(self, params: Mapping[str, str], error: str = "") -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k != "username"
        )
        page = (
            f"<!doctype html><title>Sign in to {html.escape(self.realm)}</title>"
            f'<p id="error">{html.escape(error)}</p>'
            f'<form method="post" action="{self.issuer}/protocol/openid-connect/auth">{hidden}'
            '<label>Username <input id="username" name="username"></label>'
            '<button id="kc-login" type="submit">Sign In</button></form>'
        )
        return HTMLResponse(page, status_code=400 if error else 200)

    async def _token(self, request: Request) -> Response:
        form = await read_form(request)
        if form.get("client_id") != self.client_id:
            return _oauth_error(
                "unauthorized_client", "Invalid client or Invalid client credentials", 401
            )
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        return _oauth_error("unsupported_grant_type", "Unsupported grant_type")

    def _code_grant(self, form: Mapping[str, str]) -> Response:
        grant = self._codes.pop(form.get("code", ""), None)  # a code is good for one use
        if grant is None or grant.client_id != form["client_id"]:
            return _oauth_error("invalid_grant", "Code not valid")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("invalid_grant", "Incorrect redirect_uri")
        if pkce_challenge(form.get("code_verifier", "")) != grant.challenge:
            return _oauth_error("invalid_grant", "PKCE verification failed: Invalid code verifier")
        return self._token_response(grant)

    def _refresh_grant(self, form: Mapping[str, str]) -> Response:
        with self._lock:
            grant, expires = self._refresh.get(form.get("refresh_token", ""), (None, 0.0))
        if grant is None or expires <= time.time() or grant.client_id != form["client_id"]:
            return _oauth_error("invalid_grant", "Invalid refresh token")
        if grant.username not in self.users:
            return _oauth_error("invalid_grant", "User not found")
        return self._token_response(grant)

    def _make_app(self) -> Starlette:
        prefix = f"/realms/{self.realm}"
        oidc = f"{prefix}/protocol/openid-connect"
        return Starlette(
            routes=[
                Route(f"{prefix}/.well-known/openid-configuration", self._discovery),
                Route(f"{oidc}/certs", self._certs),
                Route(f"{oidc}/auth", self._auth, methods=["GET", "POST"]),
                Route(f"{oidc}/token", self._token, methods=["POST"]),
            ]
        )

    # -- what the gateway is configured with --------------------------------------------------

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    def gateway_settings(self) -> dict[str, Any]:
        """The ``Settings`` keyword arguments that make the gateway trust this realm."""
        return {
            "jwks_url": self.jwks_url,
            "jwt_issuer": self.issuer,
            "jwt_audience": self.audience,
            "oidc_issuer": self.issuer,
            "oidc_client_id": self.client_id,
        }


def loopback(port: int = 0) -> socket.socket:
    """A socket bound to ``port`` on the loopback interface (a free port for 0)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@contextmanager
def serving(app: Starlette, sock: socket.socket) -> Iterator[None]:
    """``app`` served on ``sock`` by uvicorn in a thread, until the block ends."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def running_keycloak(**options: Any) -> Iterator[KeycloakRealm]:
    """A :class:`KeycloakRealm` served on a free loopback port, in a thread."""
    sock = loopback()
    realm = KeycloakRealm(f"http://127.0.0.1:{sock.getsockname()[1]}", **options)
    with serving(realm.app, sock):
        yield realm
