"""The shared base of every domain's expected errors.

It lives in ``db`` because ``db`` is the lowest layer that ``tenants``, ``rollout`` and
``adoption`` may all import; the class itself knows nothing of databases. One base means one
constructor, one shape (``code``, ``message``, ``field``) and one place where the schema and
the REST endpoints read what a client sees.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """An expected refusal: ``code`` is the public code, ``message`` the sentence a client sees.

    Each subclass declares its own ``code``; the GraphQL ``ErrorCode`` enum and
    ``docs/ERRORS.md`` are checked against these classes, so a code is written once.
    """

    code: ClassVar[str] = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
