"""Bearer JWTs, verified as PilotGraph verifies them, and which tenants a principal covers."""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt

from member_development.settings import Settings

ROLES = frozenset({"member", "branch_secretary", "tenant_admin", "province_admin", "auditor"})
PROVINCE_ROLES = frozenset({"province_admin", "auditor"})
# Candidates are named people: only those who manage or audit a tenant read them.
CANDIDATE_READERS = frozenset({"tenant_admin", "province_admin", "auditor"})
ASYMMETRIC = ["RS256", "ES256"]


class AuthError(Exception):
    code = "UNAUTHENTICATED"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]
    tenant: str | None = None
    province: str | None = None

    def covers(self, tenant_id: str, province_id: str) -> bool:
        """Its home tenant, or any tenant of its province for province roles."""
        if self.tenant == tenant_id:
            return True
        return self.covers_province(province_id)

    def covers_province(self, province_id: str) -> bool:
        """Province roles, of this province: no province claim is no wildcard."""
        return (
            bool(self.roles & PROVINCE_ROLES)
            and self.province is not None
            and (self.province == province_id)
        )

    @property
    def reads_candidates(self) -> bool:
        return bool(self.roles & CANDIDATE_READERS)


def verify(settings: Settings, authorization: str | None) -> Principal | None:
    """The principal of an ``Authorization: Bearer`` header; None without one."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("The Authorization header must be 'Bearer <token>'.")
    try:
        key, algorithms = _key_for(settings, token.strip())
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            key=key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"The bearer token was refused: {exc}.") from exc
    return _principal(_located(settings, claims))


def _key_for(settings: Settings, token: str) -> tuple[Any, list[str]]:
    """With a JWKS: the token's signing key (RS256/ES256 only); else the shared HS256 secret."""
    if settings.jwks_url is None:
        return settings.jwt_secret, ["HS256"]
    return _jwks(settings.jwks_url).get_signing_key_from_jwt(token).key, ASYMMETRIC


@cache
def _jwks(url: str) -> jwt.PyJWKClient:
    # Keys are cached for PyJWKClient's lifespan; an unknown kid refetches the JWKS.
    return jwt.PyJWKClient(url, timeout=5)


def _located(settings: Settings, claims: dict[str, Any]) -> dict[str, Any]:
    """The claims with roles, tenant and province read from their configured paths.

    Roles outside PilotGraph's vocabulary (Keycloak's ``offline_access``, ...) are dropped, as
    PilotGraph drops them; a token left with none is refused below.
    """
    located = {k: v for k, v in claims.items() if k not in ("roles", "tenant", "province")}
    for name, paths in (
        ("roles", settings.claim_roles),
        ("tenant", settings.claim_tenant),
        ("province", settings.claim_province),
    ):
        value = _first(claims, paths)
        if value is not None:
            located[name] = value
    roles = located.get("roles")
    if isinstance(roles, list):
        located["roles"] = [r for r in roles if not isinstance(r, str) or r in ROLES]
    return located


def _first(claims: dict[str, Any], paths: str) -> Any:
    for path in paths.split(","):
        value: Any = claims
        for part in path.strip().split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _principal(claims: dict[str, Any]) -> Principal:
    """PilotGraph's claim rules (gateway/claims.py): exact types, and each role's scope named."""
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not all(_name(r) and r in ROLES for r in roles):
        raise AuthError("The roles claim must be a non-empty list of known roles.")
    for claim in ("sub", "tenant", "province"):
        if (claim in claims or claim == "sub") and not _name(claims.get(claim)):
            raise AuthError(f"The {claim} claim must be a non-empty string.")
    for claim in ("exp", "nbf", "iat"):
        if claim in claims and not _seconds(claims[claim]):
            raise AuthError(f"The {claim} claim must be a number of seconds since the epoch.")
    tenant, province = claims.get("tenant"), claims.get("province")
    if province is None and set(roles) & PROVINCE_ROLES:
        raise AuthError("The province claim is required for province roles.")
    if tenant is None and not set(roles) & PROVINCE_ROLES:
        raise AuthError("The tenant claim is required for tenant roles.")
    return Principal(
        subject=claims["sub"], roles=frozenset(roles), tenant=tenant, province=province
    )


def _name(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _seconds(value: Any) -> bool:
    # PyJWT compares int(value): it takes "9999999999" and True for times.
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value)


def router_allowed(settings: Settings, header: str | None) -> bool:
    """``_service``/``_entities`` need the router's shared secret (development: open if unset)."""
    if settings.router_token is None:
        return not settings.is_production
    return header is not None and hmac.compare_digest(
        header.encode(), settings.router_token.encode()
    )
