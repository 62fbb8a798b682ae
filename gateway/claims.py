"""The claims a bearer token must carry, parsed strictly; any doubt refuses the token.

``roles``, ``tenant``, ``province`` and ``member_id`` are read at configurable dotted paths
(:class:`ClaimPaths`, e.g. Keycloak's ``realm_access.roles``), each a list tried in order: the first
path that is present decides, whatever its value; a missing intermediate object means the path is
missing, one present but not an object is the claim's wrong type. ``sub``, ``exp``, ``nbf`` and
``iat`` are top-level, as RFC 7519 puts them, and so is ``name`` (OpenID Connect's display name,
optional; the audit keeps it with each change).

Claims this gateway reads are exactly typed (no coercion: ``"9999999999"`` is no ``exp``, a list
is no ``province``); claims it does not read are ignored. A claim that is present must hold its
type (``null`` included). ``roles`` is a non-empty list of non-empty strings; names outside
PilotGraph's roles (Keycloak's ``offline_access``, ``default-roles-<realm>``) are dropped, and a
token left with no PilotGraph role is refused. Then the names are checked against the tenant
registry: ``tenant`` and ``province`` must exist, a province role must name its province (no claim
never means "every province"), a tenant role its tenant, and a tenant inside the token's province.
Times are compared only once typed (PyJWT would read ``int("9999999999")`` as an expiry). Every
refusal is a :class:`ClaimError` naming the claim.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, ValidationError, field_validator

from tenants.registry import TenantRegistry
from tenants.types import PROVINCE_ROLES, Role

Name = Annotated[str, Field(min_length=1)]
# RFC 7519 NumericDate: a JSON number of seconds since the epoch (a fraction is allowed).
NumericDate = Annotated[float, AllowInfNan(False)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
ROLE_NAMES = frozenset(role.value for role in Role)
_SECONDS = "must be a number of seconds since the epoch."
MESSAGES = {
    "sub": "The sub claim must be a non-empty string.",
    "roles": "The roles claim must be a non-empty list of known roles.",
    "tenant": "The tenant claim must be a non-empty string.",
    "member_id": "The member id claim must be a non-empty string.",
    "province": "The province claim must be a non-empty string.",
    "exp": f"The exp claim {_SECONDS}",
    "nbf": f"The nbf claim {_SECONDS}",
    "iat": f"The iat claim {_SECONDS}",
    "name": "The name claim must be a string of 1 to 200 characters.",
}


class ClaimError(Exception):
    """A claim is missing, of the wrong type, or names something unknown."""

    def __init__(self, claim: str, message: str) -> None:
        super().__init__(message)
        self.claim = claim
        self.message = message


def parse_paths(text: str) -> tuple[str, ...]:
    """``"realm_access.roles, roles"`` → the paths, each dotted; raises ValueError if malformed."""
    paths = tuple(part.strip() for part in text.split(","))
    for path in paths:
        if not all(path.split(".")):
            raise ValueError(f"{path!r} is not a dotted claim path (e.g. realm_access.roles)")
    return paths


@dataclass(frozen=True, slots=True)
class ClaimPaths:
    """Where the claims PilotGraph reads sit in a token; each a list of paths tried in order."""

    roles: tuple[str, ...] = ("realm_access.roles", "roles")
    tenant: tuple[str, ...] = ("tenant",)
    province: tuple[str, ...] = ("province",)
    member_id: tuple[str, ...] = ("member_id", "sub")


DEFAULT_CLAIM_PATHS = ClaimPaths()
PATH_CLAIMS = ("roles", "tenant", "province", "member_id")
TOP_LEVEL_CLAIMS = ("sub", "exp", "nbf", "iat", "name")
_MISSING = object()


class Claims(BaseModel):
    """The claims PilotGraph reads; strict types, other claims ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    sub: Name
    member_id: Name
    roles: Annotated[list[Name], Field(min_length=1)]
    exp: NumericDate
    tenant: Name | None = None
    province: Name | None = None
    nbf: NumericDate | None = None
    iat: NumericDate | None = None
    name: DisplayName | None = None

    @field_validator("tenant", "province", "nbf", "iat", "name", mode="before")
    @classmethod
    def _present_means_typed(cls, value: Any) -> Any:
        # Only a claim that is present reaches here: ``null`` is not a missing claim.
        if value is None:
            raise ValueError("null")
        return value

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        # An identity provider's own roles are no concern of ours; no role of ours is fatal.
        known = [name for name in value if name in ROLE_NAMES]
        if not known:
            raise ValueError("no PilotGraph role")
        return known

    @property
    def role_set(self) -> frozenset[Role]:
        """The roles, as the domain's enum."""
        return frozenset(Role(name) for name in self.roles)

    @property
    def reaches_province(self) -> bool:
        """Whether some role reaches the whole province (and so needs a province claim)."""
        return bool(self.role_set & PROVINCE_ROLES)


def _at(payload: Mapping[str, Any], path: str, claim: str) -> Any:
    node: Any = payload
    for key in path.split("."):
        if not isinstance(node, Mapping):  # ``{"realm_access": "admin"}``: present, wrong type
            raise ClaimError(claim, MESSAGES[claim])
        if key not in node:
            return _MISSING
        node = node[key]
    return node


def read_claims(payload: Mapping[str, Any], paths: ClaimPaths) -> dict[str, Any]:
    """The claims PilotGraph reads, flat: the first present path of each; absent ones left out."""
    read = {claim: payload.get(claim, _MISSING) for claim in TOP_LEVEL_CLAIMS}
    for claim in PATH_CLAIMS:
        found = (_at(payload, path, claim) for path in getattr(paths, claim))
        read[claim] = next((value for value in found if value is not _MISSING), _MISSING)
    return {claim: value for claim, value in read.items() if value is not _MISSING}


def parse_claims(payload: Mapping[str, Any], paths: ClaimPaths = DEFAULT_CLAIM_PATHS) -> Claims:
    """The token's claims, exactly typed; raises :class:`ClaimError` naming the first bad one."""
    try:
        return Claims.model_validate(read_claims(payload, paths))
    except ValidationError as exc:
        claim = str(exc.errors()[0]["loc"][0])
        raise ClaimError(claim, MESSAGES[claim]) from None


def check_scope(claims: Claims, registry: TenantRegistry) -> None:
    """Refuse unknown tenants or provinces, and roles without the scope they need."""
    if claims.province is not None and not registry.has_province(claims.province):
        raise ClaimError("province", "The province claim names no known province.")
    tenant = registry.get(claims.tenant) if claims.tenant is not None else None
    if claims.tenant is not None and tenant is None:
        raise ClaimError("tenant", "The tenant claim names no known tenant.")
    if claims.reaches_province and claims.province is None:
        raise ClaimError("province", "The province claim is required for province roles.")
    if not claims.reaches_province and tenant is None:
        raise ClaimError("tenant", "The tenant claim is required for tenant roles.")
    if tenant is not None and claims.province not in (None, tenant.province_id):
        raise ClaimError("tenant", "The tenant claim names a tenant outside the province claim.")


def check_times(claims: Claims, leeway: float, now: float | None = None) -> None:
    """Refuse an expired token, or one not valid yet (``nbf``, or ``iat`` in the future)."""
    now = time.time() if now is None else now
    if claims.exp <= now - leeway:
        raise ClaimError("exp", "The bearer token has expired.")
    for claim in ("nbf", "iat"):
        at = getattr(claims, claim)
        if at is not None and at > now + leeway:
            raise ClaimError(claim, f"The bearer token is not valid yet ({claim}).")
