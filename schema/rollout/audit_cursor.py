"""The audit's page cursors: ``base64url("<time ISO 8601>|<row id>")``, one spelling each.

A cursor names a position in the audit's order (time, then id, newest first), not a row a caller
may read: the next page is still read in the caller's province with the caller's filters, so a
cursor copied from elsewhere can shift where a page starts but never show another province's rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from rollout.audit import Position
from schema.errors import PilotGraphError
from schema.relay import URLSAFE_UNPADDED, canonical_uuid


def encode(position: Position) -> str:
    """The cursor just after ``position``."""
    raw = f"{position.at.astimezone(dt.UTC).isoformat()}|{position.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Position:
    """The position ``cursor`` names; ``INVALID_CURSOR`` unless the API wrote it."""
    if not URLSAFE_UNPADDED.fullmatch(cursor):
        raise invalid_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        at_text, _, id_text = raw.partition("|")
        at = dt.datetime.fromisoformat(at_text)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise invalid_cursor() from exc
    row_id = canonical_uuid(id_text)
    if row_id is None or at.tzinfo is None:
        raise invalid_cursor()
    position = Position(at=at, id=row_id)
    if encode(position) != cursor:
        raise invalid_cursor()
    return position


def invalid_cursor() -> PilotGraphError:
    return PilotGraphError(
        "INVALID_CURSOR",
        "The 'after' cursor is not one this API wrote: send a row's cursor unchanged.",
    )
