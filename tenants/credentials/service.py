"""Create, list, revoke and check service credentials (async functions over an explicit session).

A key reads ``pgk_<id>_<secret>``: the 12-hex-digit id is public (it is the row's key and what an
operator revokes by); the secret is 256 random bits, shown once at creation, stored as its
SHA-256 (a high-entropy secret needs no slow hash) and compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.credentials.models import ServiceCredential
from tenants.errors import (
    CredentialNotFound,
    InvalidCredentialInput,
    ProvinceNotFound,
    TenantNotFound,
)
from tenants.models import Province, Tenant

PREFIX = "pgk_"
ID_HEX = 12
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Credential:
    """What may be shown of a credential: everything but its secret."""

    id: str
    province_id: str
    tenant_id: str | None
    name: str
    secret_sha256: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def usable_at(self, now: dt.datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def _of(row: ServiceCredential) -> Credential:
    return Credential(
        id=row.id,
        province_id=row.province_id,
        tenant_id=row.tenant_id,
        name=row.name,
        secret_sha256=row.secret_sha256,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def digest(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a presented key, or None when it does not have a key's shape."""
    body = key.removeprefix(PREFIX)
    credential_id, sep, secret = body.partition("_")
    shaped = key.startswith(PREFIX) and sep and len(credential_id) == ID_HEX and secret
    if not shaped or any(c not in "0123456789abcdef" for c in credential_id):
        return None
    return credential_id, secret


def matches(credential: Credential, secret: str) -> bool:
    """Whether ``secret`` is this credential's (constant time)."""
    return hmac.compare_digest(digest(secret).encode(), credential.secret_sha256.encode())


async def _check_input(
    session: AsyncSession,
    *,
    province_id: str,
    tenant_id: str | None,
    name: str,
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidCredentialInput(
            f"A name of 1 to {MAX_NAME} characters is required.", field="name"
        )
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise InvalidCredentialInput(
            "expiresAt must be a time in the future, with its offset.", field="expiresAt"
        )
    if await session.get(Province, province_id) is None:
        raise ProvinceNotFound(province_id)
    if tenant_id is not None:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None or tenant.province_id != province_id:
            raise TenantNotFound(tenant_id)
    return name


async def create(
    *,
    session: AsyncSession,
    province_id: str,
    tenant_id: str | None,
    name: str,
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[Credential, str]:
    """A new credential and its key (``pgk_<id>_<secret>``), the only time the key is known."""
    clean = await _check_input(
        session,
        province_id=province_id,
        tenant_id=tenant_id,
        name=name,
        expires_at=expires_at,
        now=now,
    )
    credential_id, secret = secrets.token_hex(ID_HEX // 2), secrets.token_urlsafe(32)
    row = ServiceCredential(
        id=credential_id,
        province_id=province_id,
        tenant_id=tenant_id,
        name=clean,
        secret_sha256=digest(secret),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return _of(row), f"{PREFIX}{credential_id}_{secret}"


async def list_for(*, session: AsyncSession, province_id: str) -> list[Credential]:
    """The province's credentials, newest first (secrets are never stored, so never listed)."""
    rows = await session.scalars(
        select(ServiceCredential)
        .where(ServiceCredential.province_id == province_id)
        .order_by(ServiceCredential.created_at.desc(), ServiceCredential.id)
    )
    return [_of(row) for row in rows]


async def get(*, session: AsyncSession, credential_id: str) -> Credential | None:
    """The credential with this id, whatever its province (the caller checks the scope)."""
    row = await session.get(ServiceCredential, credential_id)
    return None if row is None else _of(row)


async def revoke_or_raise(
    *, session: AsyncSession, province_id: str, credential_id: str, now: dt.datetime
) -> Credential:
    """Revoke a credential of the province (revoking twice keeps the first time)."""
    row = await session.get(ServiceCredential, credential_id)
    if row is None or row.province_id != province_id:
        raise CredentialNotFound(credential_id)
    if row.revoked_at is None:
        row.revoked_at = now
        await session.flush()
    return _of(row)


async def touch(*, session: AsyncSession, credential_id: str, at: dt.datetime) -> None:
    """Record a use of the credential at ``at``."""
    await session.execute(
        update(ServiceCredential)
        .where(ServiceCredential.id == credential_id)
        .values(last_used_at=at)
    )
