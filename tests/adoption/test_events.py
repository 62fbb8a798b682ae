"""Validating one event: every refusal's code and message, which check wins, and id spellings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adoption.events import Refusal, ValidEvent, validate_all
from adoption.models import EventType
from tests.adoption.conftest import INSTALL_KEY, install_token
from tests.world import YEN_MO

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
ID = "0e000000-0000-4000-8000-00000000abcd"
KNOWN = "app_installed, login, session_started, screen_viewed"


def _event(**changes: Any) -> dict[str, Any]:
    body = {"id": ID, "type": "login", "timestamp": "2026-11-24T02:00:00Z", "deviceId": "phone"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _validate(
    items: list[Any], *, anonymous: bool = False
) -> tuple[list[ValidEvent], list[Refusal]]:
    return validate_all(
        items, now=NOW, anonymous=anonymous, tenant_id=YEN_MO, install_key=INSTALL_KEY
    )


def _refusal(item: Any, *, anonymous: bool = False) -> tuple[str, str]:
    valid, refused = _validate([item], anonymous=anonymous)
    assert valid == []
    return refused[0].code, refused[0].message


@pytest.mark.parametrize(
    ("item", "code", "message"),
    [
        (["login"], "INVALID_EVENT", "An event must be a JSON object."),
        (
            _event(memberId="x"),
            "IDENTITY_IN_BODY",
            "'memberId' comes from the bearer token, never from the event.",
        ),
        (_event(type="dance"), "UNKNOWN_EVENT_TYPE", f"Unknown event type 'dance'; use {KNOWN}."),
        (
            _event(type=["login"]),
            "UNKNOWN_EVENT_TYPE",
            f"Unknown event type ['login']; use {KNOWN}.",
        ),
        (_event(type="LOGIN"), "UNKNOWN_EVENT_TYPE", f"Unknown event type 'LOGIN'; use {KNOWN}."),
        (_event(deviceId=""), "MISSING_FIELD", "'deviceId' is required for this event."),
        (
            _event(deviceId="d" * 129),
            "INVALID_FIELD",
            "'deviceId' must be a string of at most 128 characters.",
        ),
        (
            _event(deviceId=7),
            "INVALID_FIELD",
            "'deviceId' must be a string of at most 128 characters.",
        ),
        (
            _event(installToken=["t"]),
            "INVALID_FIELD",
            "'installToken' must be a string of at most 256 characters.",
        ),
        (_event(type="screen_viewed"), "MISSING_FIELD", "'screen' is required for this event."),
        (
            _event(screen="s" * 65),
            "INVALID_FIELD",
            "'screen' must be a string of at most 64 characters.",
        ),
        (_event(id=None), "INVALID_EVENT_ID", "The event id must be a UUID string."),
        (_event(id=12), "INVALID_EVENT_ID", "The event id must be a UUID string."),
        (_event(id=ID[:-1]), "INVALID_EVENT_ID", f"The event id '{ID[:-1]}' is not a UUID."),
        (_event(id=ID + "\n"), "INVALID_EVENT_ID", f"The event id '{ID}\\n' is not a UUID."),
        (_event(timestamp=None), "INVALID_TIMESTAMP", "The timestamp must be an ISO 8601 string."),
        (
            _event(timestamp="yesterday"),
            "INVALID_TIMESTAMP",
            "The timestamp 'yesterday' is not ISO 8601.",
        ),
        (
            _event(timestamp="2026-11-24T02:00:00"),
            "INVALID_TIMESTAMP",
            "The timestamp needs a UTC offset (e.g. 'Z').",
        ),
        (
            _event(timestamp="2026-11-26T03:00:01Z"),
            "TIMESTAMP_IN_FUTURE",
            "The timestamp is more than 24 hours ahead.",
        ),
        (
            _event(timestamp="2026-08-27T02:59:59Z"),
            "TIMESTAMP_TOO_OLD",
            "The timestamp is older than 90 days.",
        ),
    ],
)
def test_each_refusal_has_its_code_and_message(item: Any, code: str, message: str) -> None:
    # when / then
    assert _refusal(item) == (code, message)


def test_anonymous_events_need_an_install_token() -> None:
    # when / then
    assert _refusal(_event(), anonymous=True) == (
        "MISSING_FIELD",
        "'installToken' is required for this event.",
    )


def test_the_first_failing_check_is_the_one_reported() -> None:
    # given events wrong in several ways at once
    everything_wrong = _event(member="m", tenant="t", type="dance", deviceId="", id="x")
    type_and_id = _event(type="dance", id="x", timestamp="x")
    device_and_id = _event(deviceId=None, id="x")
    id_and_timestamp = _event(id="x", timestamp="2030-01-01T00:00:00Z")

    # when
    codes = [
        _refusal(item) for item in (everything_wrong, type_and_id, device_and_id, id_and_timestamp)
    ]

    # then identity, type, fields, id, timestamp — in that order
    assert codes == [
        ("IDENTITY_IN_BODY", "'tenant' comes from the bearer token, never from the event."),
        ("UNKNOWN_EVENT_TYPE", f"Unknown event type 'dance'; use {KNOWN}."),
        ("MISSING_FIELD", "'deviceId' is required for this event."),
        ("INVALID_EVENT_ID", "The event id 'x' is not a UUID."),
    ]


def test_any_spelling_of_a_uuid_is_read_as_its_canonical_form() -> None:
    # given one id spelled four ways
    spellings = [ID.upper(), "{" + ID + "}", "urn:uuid:" + ID, ID.replace("-", "")]

    # when
    valid, refused = _validate([_event(id=s) for s in spellings])

    # then
    assert refused == []
    assert [e.event_id for e in valid] == [ID] * 4


def test_a_valid_event_is_read_in_utc_with_its_optional_fields() -> None:
    # given
    item = _event(
        type="screen_viewed",
        timestamp="2026-11-24T09:00:00+07:00",
        installToken=install_token("phone"),
        screen="meetings",
    )

    # when
    valid, refused = _validate([_event(), item])

    # then
    assert refused == []
    plain, screen = valid
    assert (plain.index, plain.type, plain.install_token, plain.screen) == (
        0,
        EventType.LOGIN,
        None,
        None,
    )
    assert (screen.index, screen.event_id, screen.type, screen.device_id) == (
        1,
        ID,
        EventType.SCREEN_VIEWED,
        "phone",
    )
    assert screen.occurred_at == dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    assert screen.occurred_at.utcoffset() == dt.timedelta(0)
    assert (screen.install_token, screen.screen) == (install_token("phone"), "meetings")
