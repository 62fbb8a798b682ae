"""Bearer JWT verification: HS256 with a shared secret, RS256/ES256 from a JWKS URL."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.settings import Settings
from tenants.registry import TenantInfo
from tenants.types import PROVINCE_ROLES, Role

ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]


class AuthError(Exception):
    """The request's credentials could not be verified."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: subject (member id or account), home tenant, roles."""

    subject: str
    roles: frozenset[Role]
    tenant: str | None = None
    province: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def reaches_province(self) -> bool:
        """Province admins and auditors may act on any tenant of their province."""
        return bool(self.roles & PROVINCE_ROLES)

    def covers(self, tenant: TenantInfo) -> bool:
        """Whether this principal may act on ``tenant``: its home, or any of its province's."""
        if self.tenant == tenant.id:
            return True
        return self.reaches_province and self.province in (None, tenant.province_id)


class TokenVerifier:
    """Verifies bearer tokens; the JWKS client caches keys and refetches on an unknown ``kid``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._secret = settings.hs256_secret
        self._jwks = (
            jwt.PyJWKClient(
                settings.jwks_url,
                cache_keys=True,
                lifespan=settings.jwks_cache_s,
                cooldown_duration=settings.jwks_refresh_cooldown_s,
            )
            if settings.jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        """Check signature, expiry, issuer and audience; return the principal."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("The bearer token is malformed.") from exc
        algorithm = header.get("alg")
        key, algorithms = await self._key_for(algorithm, token)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.jwt_leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("The bearer token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"The bearer token was refused: {exc}.") from exc
        return principal_from_claims(claims)

    async def _key_for(self, algorithm: Any, token: str) -> tuple[Any, list[str]]:
        if algorithm == "HS256" and self._secret is not None:
            return self._secret, ["HS256"]
        if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            jwks = self._jwks
            try:
                signing_key = await asyncio.to_thread(jwks.get_signing_key_from_jwt, token)
            except jwt.PyJWTError as exc:
                raise AuthError(f"No signing key for the bearer token: {exc}.") from exc
            return signing_key.key, ASYMMETRIC_ALGORITHMS
        raise AuthError(f"Signing algorithm {algorithm!r} is not accepted.")


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Map verified claims to a principal; unknown roles are refused, not ignored."""
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not raw_roles:
        raise AuthError("The bearer token carries no roles.")
    try:
        roles = frozenset(Role(str(role)) for role in raw_roles)
    except ValueError as exc:
        raise AuthError(f"The bearer token carries an unknown role: {exc}.") from exc
    tenant = claims.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise AuthError("The tenant claim must be a string.")
    if tenant is None and not roles & PROVINCE_ROLES:
        raise AuthError("The bearer token names no tenant.")
    province = claims.get("province")
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        tenant=tenant,
        province=province if isinstance(province, str) else None,
    )


def issue_development_token(
    settings: Settings,
    *,
    subject: str,
    roles: list[Role],
    tenant: str | None,
    now: dt.datetime | None = None,
    province: str | None = None,
) -> str:
    """Sign an HS256 token for development; refused in production."""
    if settings.is_production:
        raise AuthError("Development tokens are not issued in production.")
    secret = settings.hs256_secret
    if secret is None:
        raise AuthError("No HS256 secret is configured to sign development tokens.")
    issued = now or dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": [role.value for role in roles],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + dt.timedelta(hours=settings.dev_token_ttl_h),
    }
    if tenant is not None:
        claims["tenant"] = tenant
    if province is not None:
        claims["province"] = province
    return jwt.encode(claims, secret, algorithm="HS256")
