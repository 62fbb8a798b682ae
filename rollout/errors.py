"""Expected rollout errors: each carries a code the GraphQL payloads and the CLI show."""

from __future__ import annotations

from db.errors import DomainError


class RolloutError(DomainError):
    """Root of rollout's expected errors."""

    code = "ROLLOUT_ERROR"


class FlagNotFound(RolloutError):
    code = "FLAG_NOT_FOUND"

    def __init__(self, key: str) -> None:
        super().__init__(f"There is no flag {key!r}.")
        self.key = key


class UnknownVariant(RolloutError):
    code = "INVALID_INPUT"


class VersionConflict(RolloutError):
    code = "VERSION_CONFLICT"

    def __init__(self, what: str, expected: int, actual: int) -> None:
        super().__init__(
            f"{what} changed meanwhile: you edited version {expected}, it is now at {actual}."
        )
        self.expected, self.actual = expected, actual


class PlanNotFound(RolloutError):
    code = "PLAN_NOT_FOUND"

    def __init__(self, flag_key: str) -> None:
        super().__init__(f"The flag {flag_key!r} has no rollout plan.")
        self.flag_key = flag_key


class UnknownTenant(RolloutError):
    """A tenant that does not exist or is another province's: the two answer alike."""

    code = "INVALID_INPUT"


class InvalidPlan(RolloutError):
    code = "INVALID_INPUT"


class InvalidTransition(RolloutError):
    code = "INVALID_TRANSITION"


class GateFailed(RolloutError):
    code = "GATE_FAILED"


class TooEarly(RolloutError):
    code = "TOO_EARLY"


class SelfApproval(RolloutError):
    code = "SELF_APPROVAL"

    def __init__(self) -> None:
        super().__init__("A second province admin must approve: the requester cannot.")


class ApprovalNotFound(RolloutError):
    code = "APPROVAL_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("There is no pending approval with this id.")


class OutOfBounds(RolloutError):
    code = "OUT_OF_BOUNDS"


class NoticeNotFound(RolloutError):
    code = "NOTICE_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("There is no rollout notice with this id.")


class InvalidWebhookUrl(RolloutError):
    """Not an absolute http(s) URL, or one that points at the gateway itself."""

    code = "INVALID_WEBHOOK_URL"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


class WebhookNotFound(RolloutError):
    code = "WEBHOOK_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("There is no webhook endpoint with this id.")


class InvalidYaml(RolloutError):
    """The file is not YAML (the message names the line)."""

    code = "INVALID_YAML"


class InvalidConfig(RolloutError):
    """A configuration file's field is missing, of the wrong type, or contradicts the database;
    ``field`` is its dotted path, the message starts with its line."""

    code = "INVALID_CONFIG"


class UnknownFlag(RolloutError):
    """A configuration file names a flag outside the catalogue."""

    code = "UNKNOWN_FLAG"


class ForeignTenant(RolloutError):
    """A configuration file names a tenant that is not the province's (or does not exist)."""

    code = "UNKNOWN_TENANT"


class NotRequester(RolloutError):
    code = "NOT_REQUESTER"

    def __init__(self) -> None:
        super().__init__(
            "Only the admin who requested this step may withdraw it; reject it instead."
        )


class StepNotFound(RolloutError):
    code = "STEP_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("There is no pending scheduled step with this id.")
