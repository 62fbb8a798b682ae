"""Opaque global IDs (``base64url("Type:uuid")``) and member-list cursors."""

from __future__ import annotations

import base64
import binascii
import uuid

import strawberry

from tenants.errors import TenantsError


class InvalidId(TenantsError):
    code = "INVALID_ID"


def encode_id(type_name: str, value: uuid.UUID) -> strawberry.ID:
    raw = f"{type_name}:{value}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def decode_id(type_name: str, value: str, *, field: str = "id") -> uuid.UUID:
    """The UUID inside a global ID of ``type_name``; raises :class:`InvalidId`."""
    try:
        padded = value + "=" * (-len(value) % 4)
        kind, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != type_name:
            raise ValueError(kind)
        return uuid.UUID(raw)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidId(f"'{value[:80]}' is not a {type_name} ID.", field=field) from exc


def encode_cursor(name: str, member_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{member_id}:{name}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    """The (full name, id) a member cursor points after; raises :class:`InvalidId`."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        member_id, _, name = raw.partition(":")
        return name, uuid.UUID(member_id)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidId("The 'after' cursor is malformed.", field="after") from exc
