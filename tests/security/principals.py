"""Callers of every role in every tenant, as signed development tokens with ``province`` claims."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import jwt

from gateway.settings import Settings
from tenants.types import PROVINCE_ROLES, Role
from tests.security.world import TENANTS, TenantSeed


@dataclass(frozen=True)
class Caller:
    """A principal under test: its claims, and the tenants it may legitimately see."""

    name: str
    claims: dict[str, Any] = field(hash=False)
    cover: frozenset[str]
    home: str | None


def tenants_of(province: object) -> frozenset[str]:
    return frozenset(t.slug for t in TENANTS if t.province == province)


def cover_of(claims: dict[str, Any]) -> frozenset[str]:
    """The widest reach well-typed claims may grant; anything malformed reaches nothing.

    Fail closed (DESIGN.md, threat model): a province role reaches its province only through a
    ``province`` claim that is exactly a known string. Role names outside PilotGraph's (an identity
    provider's own) are ignored; a token left with none reaches nothing.
    """
    roles = claims.get("roles")
    tenant = claims.get("tenant")
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        return frozenset()
    roles = [r for r in roles if r in set(Role)]  # names outside PilotGraph's roles are ignored
    if not roles:
        return frozenset()
    if tenant is not None and not isinstance(tenant, str):
        return frozenset()
    home = frozenset({tenant}) if isinstance(tenant, str) else frozenset()
    province = claims.get("province")
    if set(roles) & PROVINCE_ROLES and isinstance(province, str):
        return home | tenants_of(province)
    return home


def sign(settings: Settings, claims: dict[str, Any]) -> str:
    """An HS256 token over ``claims`` (standard claims added unless given)."""
    now = dt.datetime.now(dt.UTC)
    base: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(hours=1)).timestamp()),
    }
    secret = settings.hs256_secret
    assert secret is not None
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


def sign_exactly(settings: Settings, claims: dict[str, Any]) -> str:
    """An HS256 token over ``claims`` as given; only issuer and audience are added when absent."""
    secret = settings.hs256_secret
    assert secret is not None
    standard = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience}
    return jwt.encode({**standard, **claims}, secret, algorithm="HS256")


def _subject(seed: TenantSeed, role: Role) -> str:
    if role is Role.MEMBER:
        return str(seed.member)
    if role is Role.BRANCH_SECRETARY:
        return str(seed.secretary)
    return f"{role.value}-{seed.slug}"


def _caller(name: str, claims: dict[str, Any]) -> Caller:
    tenant = claims.get("tenant")
    return Caller(name, claims, cover_of(claims), tenant if isinstance(tenant, str) else None)


def callers() -> list[Caller]:
    """Every role in every tenant; province roles also without a home tenant."""
    found = []
    for seed in TENANTS:
        for role in Role:
            claims = {
                "sub": _subject(seed, role),
                "roles": [role.value],
                "tenant": seed.slug,
                "province": seed.province,
            }
            found.append(_caller(f"{role.value}@{seed.slug}", claims))
    for province in sorted({t.province for t in TENANTS}):
        for role in sorted(PROVINCE_ROLES):
            claims = {
                "sub": f"{role.value}-{province}",
                "roles": [role.value],
                "province": province,
            }
            found.append(_caller(f"{role.value}@{province}", claims))
    return found


def province_admin(province: str) -> Caller:
    return next(c for c in callers() if c.name == f"province_admin@{province}")
