"""Validating the app's events, one by one: what was refused, at which index, and why.

Pure functions: no database. Member and tenant never come from the body; a body naming them is
refused, so a client cannot record events for someone else. An install token, required on
anonymous events and checked wherever it is sent, must be one the gateway issued for the event's
device on the request's tenant, and not expired (:mod:`.install_tokens`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from adoption import install_tokens
from adoption.install_tokens import InstallTokenKey, TokenCheck
from adoption.models import EventType

MAX_EVENTS = 1_000
MAX_BYTES = 1024 * 1024
MAX_AHEAD = dt.timedelta(hours=24)
MAX_AGE = dt.timedelta(days=90)
IDENTITY_FIELDS = ("tenant", "tenantId", "member", "memberId")
MAX_DEVICE, MAX_TOKEN, MAX_SCREEN = 128, 256, 64


@dataclass(frozen=True, slots=True)
class ValidEvent:
    index: int
    event_id: str  # the UUID in canonical form: lowercase, hyphenated
    type: EventType
    occurred_at: dt.datetime  # UTC
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


_TYPES = {t.value: t for t in EventType}
_SURROGATE = re.compile("[\ud800-\udfff]").search
_IDENTITY = frozenset(IDENTITY_FIELDS)
_CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch


@dataclass(frozen=True, slots=True)
class Verifier:
    """Checks the install tokens of one request's batch; each (token, device) pair once."""

    key: InstallTokenKey
    tenant_id: str
    now: dt.datetime
    seen: dict[tuple[str, str], TokenCheck] = field(default_factory=dict)

    def check(self, token: str, device: str) -> None:
        """Raise :class:`Invalid` unless ``token`` is a fresh one issued for ``device``."""
        verdict = self.seen.get((token, device))
        if verdict is None:
            verdict = install_tokens.check(
                token, key=self.key, tenant_id=self.tenant_id, device_id=device, now=self.now
            )
            self.seen[(token, device)] = verdict
        if verdict is not TokenCheck.VALID:
            _refuse_token(verdict, self.key)


def validate_all(
    raw: Sequence[Any],
    *,
    now: dt.datetime,
    anonymous: bool,
    tenant_id: str,
    install_key: InstallTokenKey,
) -> tuple[list[ValidEvent], list[Refusal]]:
    """Split a batch into valid events and per-index refusals."""
    valid: list[ValidEvent] = []
    refused: list[Refusal] = []
    window = (now - MAX_AGE, now + MAX_AHEAD)
    tokens = Verifier(install_key, tenant_id, now)
    for index, item in enumerate(raw):
        try:
            valid.append(_validate(item, index, window, anonymous, tokens))
        except Invalid as exc:
            refused.append(Refusal(index=index, code=exc.code, message=exc.message))
    return valid, refused


def _validate(
    item: Any,
    index: int,
    window: tuple[dt.datetime, dt.datetime],
    anonymous: bool,
    tokens: Verifier,
) -> ValidEvent:
    # Checks run in a fixed order (the first failure is the one reported); each field takes
    # an inline fast path when it is plainly well-formed, and the helpers decide otherwise.
    if not isinstance(item, dict):
        raise Invalid("INVALID_EVENT", "An event must be a JSON object.")
    if not _IDENTITY.isdisjoint(item):
        _refuse_identity(item)
    kind = item.get("type")
    event_type = _TYPES.get(kind) if isinstance(kind, str) else None
    if event_type is None:
        _refuse_type(kind)
    device = item.get("deviceId")
    if not (isinstance(device, str) and 0 < len(device) <= MAX_DEVICE and _storable(device)):
        device = _text(device, "deviceId", MAX_DEVICE, required=True)
    token = item.get("installToken")
    if token is not None or anonymous:
        token = _text(token, "installToken", MAX_TOKEN, required=anonymous)
    if token is not None:
        tokens.check(token, device or "")
    screen = item.get("screen")
    if screen is not None or event_type is EventType.SCREEN_VIEWED:
        screen = _text(screen, "screen", MAX_SCREEN, required=event_type is EventType.SCREEN_VIEWED)
    event_id = item.get("id")
    if not (isinstance(event_id, str) and _CANONICAL_UUID(event_id)):
        event_id = _event_id(event_id)
    return ValidEvent(
        index,
        event_id,
        event_type,
        _timestamp(item.get("timestamp"), window),
        device or "",
        token,
        screen,
    )


def _refuse_identity(item: dict[str, Any]) -> NoReturn:
    name = next(name for name in IDENTITY_FIELDS if name in item)
    raise Invalid(
        "IDENTITY_IN_BODY", f"'{name}' comes from the bearer token, never from the event."
    )


def _refuse_type(value: Any) -> NoReturn:
    known = ", ".join(t.value for t in EventType)
    raise Invalid("UNKNOWN_EVENT_TYPE", f"Unknown event type {value!r}; use {known}.")


def _refuse_token(verdict: TokenCheck, key: InstallTokenKey) -> NoReturn:
    if verdict is TokenCheck.EXPIRED:
        raise Invalid(
            "INSTALL_TOKEN_EXPIRED",
            f"The install token is older than {_duration(key.ttl)}; get a new one from "
            "POST /v1/install-tokens.",
        )
    raise Invalid(
        "INSTALL_TOKEN_INVALID",
        "The install token was not issued by this gateway for this device on this tenant; "
        "get one from POST /v1/install-tokens.",
    )


def _duration(span: dt.timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    return f"{hours // 24} days" if hours % 24 == 0 else f"{hours} hours"


def _event_id(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("INVALID_EVENT_ID", "The event id must be a UUID string.")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Invalid("INVALID_EVENT_ID", f"The event id {value!r} is not a UUID.") from None


def _timestamp(value: Any, window: tuple[dt.datetime, dt.datetime]) -> dt.datetime:
    if not isinstance(value, str):
        raise Invalid("INVALID_TIMESTAMP", "The timestamp must be an ISO 8601 string.")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("INVALID_TIMESTAMP", f"The timestamp {value!r} is not ISO 8601.") from None
    if moment.tzinfo is None:
        raise Invalid("INVALID_TIMESTAMP", "The timestamp needs a UTC offset (e.g. 'Z').")
    earliest, latest = window
    if moment > latest:
        raise Invalid("TIMESTAMP_IN_FUTURE", "The timestamp is more than 24 hours ahead.")
    if moment < earliest:
        raise Invalid("TIMESTAMP_TOO_OLD", "The timestamp is older than 90 days.")
    return moment.astimezone(dt.UTC)


def _text(value: Any, name: str, limit: int, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid("MISSING_FIELD", f"'{name}' is required for this event.")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid("INVALID_FIELD", f"'{name}' must be a string of at most {limit} characters.")
    if not _storable(value):
        raise Invalid(
            "INVALID_FIELD",
            f"'{name}' must not contain U+0000 or unpaired surrogates (\\ud800-\\udfff).",
        )
    return value


def _storable(text: str) -> bool:
    """Whether text can be stored: PostgreSQL's text refuses U+0000, UTF-8 lone surrogates.

    Refused per event, so one poison event cannot fail (and, retried, block) its whole batch.
    """
    return "\x00" not in text and not _SURROGATE(text)
