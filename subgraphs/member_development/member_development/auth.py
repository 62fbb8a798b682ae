"""Bearer JWTs, verified as PilotGraph verifies them, and which tenants a principal covers."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import jwt

from member_development.settings import Settings

ROLES = frozenset({"member", "branch_secretary", "tenant_admin", "province_admin", "auditor"})
PROVINCE_ROLES = frozenset({"province_admin", "auditor"})
# Candidates are named people: only those who manage or audit a tenant read them.
CANDIDATE_READERS = frozenset({"tenant_admin", "province_admin", "auditor"})


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
        return bool(self.roles & PROVINCE_ROLES) and self.province in (None, province_id)

    def covers_province(self, province_id: str) -> bool:
        return bool(self.roles & PROVINCE_ROLES) and self.province in (None, province_id)

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
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            key=settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"The bearer token was refused: {exc}.") from exc
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not set(map(str, roles)) <= ROLES:
        raise AuthError("The bearer token carries no roles or an unknown role.")
    tenant, province = claims.get("tenant"), claims.get("province")
    if tenant is None and not set(roles) & PROVINCE_ROLES:
        raise AuthError("The bearer token names no tenant.")
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(map(str, roles)),
        tenant=tenant if isinstance(tenant, str) else None,
        province=province if isinstance(province, str) else None,
    )


def router_allowed(settings: Settings, header: str | None) -> bool:
    """``_service``/``_entities`` need the router's shared secret (development: open if unset)."""
    if settings.router_token is None:
        return not settings.is_production
    return header is not None and hmac.compare_digest(
        header.encode(), settings.router_token.encode()
    )
