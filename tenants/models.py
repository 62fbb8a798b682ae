"""The hierarchy: province → tenant (district-level committee) → organisation → branch."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class TenantKind(StrEnum):
    DISTRICT = "district"
    PROVINCIAL_COMMITTEE = "provincial_committee"


class Province(Base):
    __tablename__ = "provinces"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")


class Tenant(Base):
    """A district-level party committee; tenants may nest under a parent tenant."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default=TenantKind.DISTRICT.value)


class Organisation(Base):
    """A grassroots party organisation; ``parent_id`` leaves room for deeper levels."""

    __tablename__ = "organisations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "parent_id"], ["organisations.tenant_id", "organisations.id"]
        ),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    name: Mapped[str] = mapped_column(String(200))


class Branch(Base):
    __tablename__ = "branches"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "organisation_id"], ["organisations.tenant_id", "organisations.id"]
        ),
        Index("ix_branches_tenant_organisation", "tenant_id", "organisation_id"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(200))
