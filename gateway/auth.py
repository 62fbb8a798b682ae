"""Bearer JWT verification: HS256 with a shared secret, RS256/ES256 from a JWKS URL."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import threading
import time
from collections.abc import Mapping
from typing import Any

import jwt

from db.clock import utc_now
from gateway.claims import (
    DEFAULT_CLAIM_PATHS,
    ClaimError,
    ClaimPaths,
    Claims,
    check_scope,
    check_times,
    parse_claims,
)
from gateway.settings import Settings
from gateway.token_cache import MAX_HOLD_S, TokenCache
from tenants.identity import Principal
from tenants.registry import TenantRegistry
from tenants.types import Role

ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]
# A JWKS fetch holds every verification needing a new key; an identity provider that hangs must
# not hold them for PyJWT's default 30 s.
JWKS_TIMEOUT_S = 5.0
# PyJWT checks signature, iss and aud; the types of sub and the times are gateway.claims' (one
# message naming the claim), and the times are compared only once typed: PyJWT reads int("…").
CLAIMS_CHECKED_HERE: jwt.types.Options = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_sub": False,
}


class AuthError(Exception):
    """The request's credentials could not be verified."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ROUTER_HEADER = "x-router-token"


def router_allowed(settings: Settings | None, header: str | None) -> bool:
    """Whether a request carrying ``header`` may use the router-only fields."""
    if settings is None:
        return False
    if settings.router_token is None:
        return not settings.is_production
    expected = settings.router_token.get_secret_value().encode()
    return header is not None and hmac.compare_digest(header.encode(), expected)


class SigningKeys:
    """A JWKS's signing keys, cached; an unknown ``kid`` refetches at most once per cooldown.

    The cooldown starts with every refetch, a failed one included, so neither a flood of made-up
    ``kid``s nor an identity provider that is down or slow gets more than one request per cooldown
    from them; a key rotated in is found by the first token that names it, once the cooldown since
    the last refetch has passed. One fetch at a time, each given at most ``JWKS_TIMEOUT_S``.
    """

    def __init__(self, url: str, *, lifespan: float, cooldown: float) -> None:
        self._client = jwt.PyJWKClient(url, lifespan=lifespan, timeout=JWKS_TIMEOUT_S)
        self._cooldown = cooldown
        self._refetched_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, token: str) -> jwt.PyJWK:
        """The key the token's ``kid`` names (blocking: run it in a thread)."""
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            raise jwt.PyJWKClientError("The bearer token names no key (kid)")
        with self._lock:
            key = self._client.match_kid(self._client.get_signing_keys(), kid)
            if key is None and self._may_refetch():
                key = self._client.match_kid(self._client.get_signing_keys(refresh=True), kid)
        if key is None:
            raise jwt.PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')
        return key

    def _may_refetch(self) -> bool:
        now = time.monotonic()
        if self._refetched_at is not None and now - self._refetched_at < self._cooldown:
            return False
        self._refetched_at = now
        return True


class TokenVerifier:
    """Verifies bearer tokens: HS256 with the shared secret, or a key of the JWKS (SigningKeys)."""

    def __init__(
        self, settings: Settings, registry: TenantRegistry, cache: TokenCache | None = None
    ) -> None:
        self._settings = settings
        self._registry = registry
        # A key retired from the JWKS must stop verifying once the key set's cache expires.
        hold_s = settings.jwks_cache_s if settings.jwks_url else MAX_HOLD_S
        self._verified = TokenCache(hold_s=hold_s) if cache is None else cache
        self._secret = settings.hs256_secret
        self._paths = settings.claim_paths
        self._jwks = (
            SigningKeys(
                settings.jwks_url,
                lifespan=settings.jwks_cache_s,
                cooldown=settings.jwks_refresh_cooldown_s,
            )
            if settings.jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        """Check signature, issuer and audience, then the claims (``gateway.claims``).

        A token verified before is served from the cache (``gateway.token_cache``) with its
        times and scope checked again; only a token that passed every check is cached.
        """
        cached = self._verified.get(token)
        if cached is not None:
            _recheck(cached.claims, self._registry, self._settings.jwt_leeway_s)
            return cached.principal
        payload = await self._decode(token)
        claims = checked_claims(
            payload, self._registry, leeway=self._settings.jwt_leeway_s, paths=self._paths
        )
        principal = principal_of(claims)
        self._verified.put(token, claims, principal)
        return principal

    async def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("The bearer token is malformed.") from exc
        key, algorithms = await self._key_for(header.get("alg"), token)
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "sub", "iss", "aud"], **CLAIMS_CHECKED_HERE},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"The bearer token was refused: {exc}.") from exc

    async def _key_for(self, algorithm: Any, token: str) -> tuple[Any, list[str]]:
        if algorithm == "HS256" and self._secret is not None:
            return self._secret, ["HS256"]
        if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            jwks = self._jwks
            try:
                signing_key = await asyncio.to_thread(jwks.key_for, token)
            except jwt.PyJWTError as exc:
                raise AuthError(f"No signing key for the bearer token: {exc}.") from exc
            return signing_key.key, ASYMMETRIC_ALGORITHMS
        raise AuthError(f"Signing algorithm {algorithm!r} is not accepted.")


def principal_from_claims(
    payload: Mapping[str, Any],
    registry: TenantRegistry,
    *,
    leeway: float = 0,
    paths: ClaimPaths = DEFAULT_CLAIM_PATHS,
) -> Principal:
    """Parse verified claims strictly (``gateway.claims``), check times, then the registry.

    The principal's subject is the member id claim (by default ``member_id``, else ``sub``).
    """
    return principal_of(checked_claims(payload, registry, leeway=leeway, paths=paths))


def checked_claims(
    payload: Mapping[str, Any],
    registry: TenantRegistry,
    *,
    leeway: float = 0,
    paths: ClaimPaths = DEFAULT_CLAIM_PATHS,
) -> Claims:
    """The verified payload's claims, parsed strictly and checked; raises :class:`AuthError`."""
    try:
        claims = parse_claims(payload, paths)
    except ClaimError as exc:
        raise AuthError(exc.message) from None
    _recheck(claims, registry, leeway)
    return claims


def principal_of(claims: Claims) -> Principal:
    """The principal checked claims speak for."""
    return Principal(
        subject=claims.member_id,
        roles=claims.role_set,
        tenant=claims.tenant,
        province=claims.province,
        name=claims.name,
    )


def _recheck(claims: Claims, registry: TenantRegistry, leeway: float) -> None:
    try:
        check_times(claims, leeway)
        check_scope(claims, registry)
    except ClaimError as exc:
        raise AuthError(exc.message) from None


def issue_development_token(
    settings: Settings,
    *,
    subject: str,
    roles: list[Role],
    tenant: str | None,
    province: str | None = None,
    now: dt.datetime | None = None,
    name: str | None = None,
) -> str:
    """Sign an HS256 token for development; refused in production, or if its claims are not.

    Each claim is written at the last of its configured paths (by default the flat ``roles``,
    ``tenant``, ``province`` and ``sub``).
    """
    if settings.is_production:
        raise AuthError("Development tokens are not issued in production.")
    secret = settings.hs256_secret
    if secret is None:
        raise AuthError("No HS256 secret is configured to sign development tokens.")
    claims = _development_claims(settings, subject, roles, tenant, province, now)
    if name is not None:
        claims["name"] = name  # OpenID Connect's display name: top-level, as providers send it
    try:  # never sign what the verifier would refuse for its shape
        parse_claims(claims, settings.claim_paths)
    except ClaimError as exc:
        raise AuthError(exc.message) from None
    return jwt.encode(claims, secret, algorithm="HS256")


def _development_claims(
    settings: Settings,
    subject: str,
    roles: list[Role],
    tenant: str | None,
    province: str | None,
    now: dt.datetime | None,
) -> dict[str, Any]:
    issued = int((now or utc_now()).timestamp())
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + settings.dev_token_ttl_h * 3600,
    }
    paths = settings.claim_paths
    placed = (
        (paths.member_id, subject),
        (paths.roles, [role.value for role in roles]),
        (paths.tenant, tenant),
        (paths.province, province),
    )
    for where, value in placed:
        if value is not None:
            _place(claims, where[-1], value)
    return claims


def _place(claims: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = claims
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
