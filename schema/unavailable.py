"""Recognise a failing database behind an unexpected error, so the edge can answer 503."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
# Connection lost or refused, pool exhausted, statement or connect timeout, database locked.
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    TimeoutError,
    ConnectionError,
    OSError,
)


def is_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) says the database cannot be reached right now."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, _UNAVAILABLE):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False
