"""Adoption's expected errors: one root, small classes carrying their data."""

from __future__ import annotations


class AdoptionError(Exception):
    """Root of adoption's expected errors; ``code`` is what clients see."""

    code = "ADOPTION_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooManyEvents(AdoptionError):
    code = "TOO_MANY_EVENTS"

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"A request carries at most {limit} events; this one has {count}.")
        self.count, self.limit = count, limit


class MalformedBatch(AdoptionError):
    code = "MALFORMED_EVENTS"


class UnknownTenant(AdoptionError):
    code = "TENANT_NOT_FOUND"

    def __init__(self, slug: str) -> None:
        super().__init__(f"Tenant '{slug}' does not exist.")
        self.slug = slug


class FlagPlanNotFound(AdoptionError):
    code = "FLAG_PLAN_NOT_FOUND"

    def __init__(self, flag: str) -> None:
        super().__init__(f"Flag '{flag}' has no rollout plan.")
        self.flag = flag


class InvalidPeriod(AdoptionError):
    code = "INVALID_PERIOD"
