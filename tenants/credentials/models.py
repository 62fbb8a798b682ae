"""A service credential: a public id, the SHA-256 of its secret, its scope and its life."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UtcDateTime


class ServiceCredential(Base):
    """Province-level (no tenant wall of its own): a key is scoped to a province or one tenant."""

    __tablename__ = "service_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"), index=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
