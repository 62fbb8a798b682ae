"""Validating the app's events, one by one: what was refused, at which index, and why.

Pure functions: no database. Member and tenant never come from the body; a body naming them is
refused, so a client cannot record events for someone else.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rollout.adoption.models import EventType

MAX_EVENTS = 1_000
MAX_BYTES = 1024 * 1024
MAX_AHEAD = dt.timedelta(hours=24)
MAX_AGE = dt.timedelta(days=90)
IDENTITY_FIELDS = ("tenant", "tenantId", "member", "memberId")
MAX_DEVICE, MAX_TOKEN, MAX_SCREEN = 128, 256, 64


@dataclass(frozen=True, slots=True)
class ValidEvent:
    index: int
    event_id: uuid.UUID
    type: EventType
    occurred_at: dt.datetime
    device_id: str
    install_token: str | None
    screen: str | None


@dataclass(frozen=True, slots=True)
class Refusal:
    index: int
    code: str
    message: str


class Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def validate_all(
    raw: Sequence[Any], *, now: dt.datetime, anonymous: bool
) -> tuple[list[ValidEvent], list[Refusal]]:
    """Split a batch into valid events and per-index refusals."""
    valid: list[ValidEvent] = []
    refused: list[Refusal] = []
    for index, item in enumerate(raw):
        try:
            valid.append(validate(item, index=index, now=now, anonymous=anonymous))
        except Invalid as exc:
            refused.append(Refusal(index=index, code=exc.code, message=exc.message))
    return valid, refused


def validate(item: Any, *, index: int, now: dt.datetime, anonymous: bool) -> ValidEvent:
    """One event, or :class:`Invalid` with a code and a message."""
    if not isinstance(item, dict):
        raise Invalid("INVALID_EVENT", "An event must be a JSON object.")
    for name in IDENTITY_FIELDS:
        if name in item:
            raise Invalid(
                "IDENTITY_IN_BODY", f"'{name}' comes from the bearer token, never from the event."
            )
    event_type = _type(item.get("type"))
    device = _text(item.get("deviceId"), "deviceId", MAX_DEVICE, required=True)
    token = _text(item.get("installToken"), "installToken", MAX_TOKEN, required=anonymous)
    screen = _text(
        item.get("screen"), "screen", MAX_SCREEN, required=event_type is EventType.SCREEN_VIEWED
    )
    return ValidEvent(
        index=index,
        event_id=_event_id(item.get("id")),
        type=event_type,
        occurred_at=_timestamp(item.get("timestamp"), now),
        device_id=device or "",
        install_token=token,
        screen=screen,
    )


def _event_id(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise Invalid("INVALID_EVENT_ID", "The event id must be a UUID string.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid("INVALID_EVENT_ID", f"The event id {value!r} is not a UUID.") from None


def _type(value: Any) -> EventType:
    try:
        return EventType(value)
    except ValueError:
        known = ", ".join(t.value for t in EventType)
        raise Invalid("UNKNOWN_EVENT_TYPE", f"Unknown event type {value!r}; use {known}.") from None


def _timestamp(value: Any, now: dt.datetime) -> dt.datetime:
    if not isinstance(value, str):
        raise Invalid("INVALID_TIMESTAMP", "The timestamp must be an ISO 8601 string.")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("INVALID_TIMESTAMP", f"The timestamp {value!r} is not ISO 8601.") from None
    if moment.tzinfo is None:
        raise Invalid("INVALID_TIMESTAMP", "The timestamp needs a UTC offset (e.g. 'Z').")
    if moment > now + MAX_AHEAD:
        raise Invalid("TIMESTAMP_IN_FUTURE", "The timestamp is more than 24 hours ahead.")
    if moment < now - MAX_AGE:
        raise Invalid("TIMESTAMP_TOO_OLD", "The timestamp is older than 90 days.")
    return moment.astimezone(dt.UTC)


def _text(value: Any, name: str, limit: int, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid("MISSING_FIELD", f"'{name}' is required for this event.")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid("INVALID_FIELD", f"'{name}' must be a string of at most {limit} characters.")
    return value
