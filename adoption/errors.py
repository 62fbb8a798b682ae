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


class InvalidRetention(AdoptionError):
    code = "INVALID_RETENTION"

    def __init__(self, months: object, low: int, high: int) -> None:
        super().__init__(
            f"The retention age is a whole number of months from {low} to {high}; got {months!r}.",
            field="months",
        )
        self.months = months
