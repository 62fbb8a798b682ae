"""Webhook rows: a province's endpoints, the event outbox, each event's delivery and its attempts.

Province-level rollout rows (no row-level security), keyed by province like the rest of rollout.
An event row is written in the transaction of the change it reports (see ``outbox.py``), so an
acknowledged change always has its event; deliveries fan it out to the endpoints afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UtcDateTime


class EventType(StrEnum):
    ROLLOUT_STEP = "rollout.step"  # start, advance, approve, pause, resume, roll back
    APPROVAL_REQUESTED = "approval.requested"  # a step waits for a second province admin
    GUARDRAIL_PAUSED = "guardrail.paused"  # the adoption guardrail paused a plan
    FLAG_KILLED = "flag.killed"  # the kill switch


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # gave up after the last attempt


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_province", "province_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"))
    url: Mapped[str] = mapped_column(String(2000))
    # the HMAC-SHA256 key; the receiver holds the same (shown once, when created or rotated)
    secret: Mapped[str] = mapped_column(String(100))
    event_types: Mapped[list[str]] = mapped_column(JSON)  # the events it receives
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class WebhookEvent(Base):
    """One event, written with the change it reports; ``fanned_out_at`` once deliveries exist."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_fanned_out_created", "fanned_out_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the idempotency key
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"))
    type: Mapped[str] = mapped_column(String(32))
    flag_key: Mapped[str | None] = mapped_column(String(100), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    fanned_out_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class WebhookDelivery(Base):
    """An event on its way to one endpoint: claimed by one worker at a time (a lease)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_province_created", "province_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # attempts claimed so far
    # the next attempt's time; while an attempt runs, the end of its lease
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")


class WebhookAttempt(Base):
    """One POST of a delivery and what came back: the delivery log."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    worker: Mapped[str] = mapped_column(String(200))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(Text, default="")
