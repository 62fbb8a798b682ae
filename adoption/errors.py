"""Adoption's expected errors: one root, small classes carrying their data."""

from __future__ import annotations

from db.errors import DomainError


class AdoptionError(DomainError):
    """Root of adoption's expected errors; ``code`` is what clients see."""

    code = "ADOPTION_ERROR"


class TooManyEvents(AdoptionError):
    code = "TOO_MANY_EVENTS"

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"A request carries at most {limit} events; this one has {count}.", field="events"
        )
        self.count, self.limit = count, limit


class MalformedBatch(AdoptionError):
    code = "MALFORMED_EVENTS"


class InvalidPeriod(AdoptionError):
    code = "INVALID_PERIOD"
