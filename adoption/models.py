"""Adoption rows: the app's raw events, the ids seen (exactly-once ingest) and the rollups.

Every table is tenant-owned and keyed by ``tenant_id`` first. On PostgreSQL ``adoption_events``
is partitioned by month of ``occurred_at`` (see migration 0003 and :mod:`.partitions`); since a
partition key must be part of every unique key there, exactly-once rests on
``adoption_event_ids`` (tenant, client event id), which is not partitioned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Date, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UtcDateTime


class EventType(StrEnum):
    APP_INSTALLED = "app_installed"
    LOGIN = "login"
    SESSION_STARTED = "session_started"
    SCREEN_VIEWED = "screen_viewed"


# Event types that make a member "active" on their day (DESIGN.md: a login or a session).
ACTIVE_TYPES = frozenset({EventType.LOGIN, EventType.SESSION_STARTED})


class AdoptionEventId(Base):
    """Every client event id accepted once per tenant: the exactly-once guard."""

    __tablename__ = "adoption_event_ids"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class AdoptionEvent(Base):
    __tablename__ = "adoption_events"
    __table_args__ = (Index("ix_adoption_events_tenant_occurred", "tenant_id", "occurred_at"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    device_id: Mapped[str] = mapped_column(String(128))
    install_token: Mapped[str | None] = mapped_column(String(256), default=None)
    screen: Mapped[str | None] = mapped_column(String(64), default=None)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AdoptionDaily(Base):
    """Per tenant and local day: distinct active members and sessions (uses); and, kept by
    triggers on ``adoption_activations`` / ``adoption_installs`` (migration 0004), the members
    whose first login and the devices whose first install fall on that day."""

    __tablename__ = "adoption_daily"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    active_members: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    new_activations: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    new_installs: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class AdoptionMonthly(Base):
    """Per tenant and local calendar month (first day): exact distinct active members, sessions."""

    __tablename__ = "adoption_monthly"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    active_members: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)


class AdoptionMemberDay(Base):
    """A member active on a local day; distinct counts over any range of days read it."""

    __tablename__ = "adoption_member_days"
    __table_args__ = (Index("ix_adoption_member_days_week", "tenant_id", "week", "member_id"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    week: Mapped[dt.date] = mapped_column(Date)  # the Monday of ``day``'s ISO week


class AdoptionMemberMonth(Base):
    """A member active in a local calendar month: the exact monthly distinct count."""

    __tablename__ = "adoption_member_months"
    # Retention joins activations to member-months by (tenant, member), within a month range.
    __table_args__ = (Index("ix_adoption_member_months_member", "tenant_id", "member_id", "month"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class AdoptionActivation(Base):
    """A member's first login (local day); a late, earlier login moves it back."""

    __tablename__ = "adoption_activations"
    __table_args__ = (Index("ix_adoption_activations_day", "tenant_id", "activated_on"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    activated_on: Mapped[dt.date] = mapped_column(Date)


class AdoptionInstall(Base):
    """A device's first ``app_installed`` (local day)."""

    __tablename__ = "adoption_installs"
    __table_args__ = (Index("ix_adoption_installs_day", "tenant_id", "installed_on"),)

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    installed_on: Mapped[dt.date] = mapped_column(Date)


class AdoptionMemberCount(Base):
    """A tenant's members, as per-day changes kept by triggers on ``member_memberships``
    (migration 0013): members at a date is the sum of the rows up to it."""

    __tablename__ = "adoption_member_counts"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    joined_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    members: Mapped[int] = mapped_column(Integer)


class AdoptionActivatedCount(Base):
    """A tenant's activated members, as per-day changes kept by triggers on
    ``adoption_activations`` and ``member_memberships`` (migration 0015): activated members at
    a date is the sum of the rows up to it."""

    __tablename__ = "adoption_activated_counts"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    members: Mapped[int] = mapped_column(Integer)


class AdoptionEventHorizon(Base):
    """One row: raw events before ``removed_before`` have been removed (retention, migration
    0009); rollups of the local months before it are never rebuilt, so they stay."""

    __tablename__ = "adoption_event_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    removed_before: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    removed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


ROLLUP_TABLES = (
    AdoptionDaily,
    AdoptionMonthly,
    AdoptionMemberDay,
    AdoptionMemberMonth,
    AdoptionActivation,
    AdoptionInstall,
)
