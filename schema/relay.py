"""Opaque global IDs (``base64url("Type:uuid")``) and member-list cursors.

A global ID has one spelling, the one :func:`encode_id` writes: URL-safe alphabet, no padding,
the UUID lower-case with hyphens. Other spellings of the same bytes (padding, the standard
alphabet, whitespace, a braced, URN or upper-case UUID) are refused, so an ID can serve as a
cache or audit key and two spellings never name one object.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid

import strawberry

from tenants.errors import TenantsError

# What encode_id writes: the URL-safe alphabet, without padding.
URLSAFE_UNPADDED = re.compile(r"[A-Za-z0-9_-]*")


class InvalidId(TenantsError):
    code = "INVALID_ID"


def encode_id(type_name: str, value: uuid.UUID) -> strawberry.ID:
    """The canonical global ID of the ``type_name`` object ``value``."""
    raw = f"{type_name}:{value}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def decode_id(type_name: str, value: str, *, field: str = "id") -> uuid.UUID:
    """The UUID inside the canonical global ID of ``type_name``; raises :class:`InvalidId`."""
    if not URLSAFE_UNPADDED.fullmatch(value):
        raise _respelled(type_name, value, field)
    try:
        kind, _, raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).partition(b":")
        if kind != type_name.encode():
            raise ValueError(kind)
        parsed = uuid.UUID(raw.decode("ascii"))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidId(f"'{value[:80]}' is not a {type_name} ID.", field=field) from exc
    if encode_id(type_name, parsed) != value:
        raise _respelled(type_name, value, field)
    return parsed


def _respelled(type_name: str, value: str, field: str) -> InvalidId:
    message = f"'{value[:80]}' is not a {type_name} ID as the API writes it: send IDs unchanged."
    return InvalidId(message, field=field)


def canonical_uuid(value: str) -> uuid.UUID | None:
    """``value`` as a UUID when spelled as the API writes UUIDs (lower-case, hyphens), else None.

    Braced, URN, upper-case or hyphen-less spellings name no object: an ID has one spelling.
    """
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return parsed if str(parsed) == value else None


def encode_cursor(name: str, member_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{member_id}:{name}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    """The (full name, id) a member cursor points after; raises :class:`InvalidId`."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        member_id, _, name = raw.partition(":")
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidId("The 'after' cursor is malformed.", field="after") from exc
    parsed = canonical_uuid(member_id)
    if parsed is None or encode_cursor(name, parsed) != cursor:
        raise InvalidId("The 'after' cursor is malformed.", field="after")
    return name, parsed
