"""Input cleaning shared by handbook commands: NFC text with bounded length."""

from __future__ import annotations

import datetime as dt
import unicodedata

from tenants.errors import InvalidInput

TITLE_MAX = 200
PLACE_MAX = 200
BODY_MAX = 10_000
REASON_MAX = 1_000
MEETING_MAX = dt.timedelta(hours=12)


def clean_text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    """Normalise to NFC, trim, and check length and control characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if required and not text:
        raise InvalidInput(f"{field} must not be empty.", field=field)
    if len(text) > max_length:
        raise InvalidInput(
            f"{field} is {len(text)} characters long; at most {max_length} are allowed.",
            field=field,
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise InvalidInput(f"{field} contains control characters.", field=field)
    return text


def check_period(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    """A meeting ends after it starts, within a day's sitting."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("Times must carry a UTC offset.", field="startsAt")
    if ends_at <= starts_at:
        raise InvalidInput("endsAt must be after startsAt.", field="endsAt")
    if ends_at - starts_at > MEETING_MAX:
        raise InvalidInput("A meeting lasts at most 12 hours.", field="endsAt")
