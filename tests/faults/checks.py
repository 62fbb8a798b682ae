"""What the fault suite records of every answer, and the rules every answer must meet.

An answer is acceptable when a client can act on it: a 2xx whose body carries no masked
internal error, or a 503 ``SERVICE_UNAVAILABLE`` / ``OVERLOADED`` with ``Retry-After``, or a
``QUERY_TIMEOUT``. Anything else (an uncoded 5xx, a 200 with ``INTERNAL_SERVER_ERROR``, a 4xx
nobody asked for, a reset connection, no answer within the client's bound) is a violation.
Flag evaluations (OFREP, GraphQL ``features``) are held to more: flags keep serving from the
last snapshot, so each is a 200 without an error.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

UNAVAILABLE_CODES = frozenset({"SERVICE_UNAVAILABLE", "OVERLOADED"})
TIMEOUT_CODE = "QUERY_TIMEOUT"
MASKED = "INTERNAL_SERVER_ERROR"
FLAG_KINDS = frozenset({"ofrep", "features"})  # flag evaluations: served even without a database
NO_ANSWER = 0  # the status recorded when the client got no HTTP answer


@dataclass(frozen=True, slots=True)
class Answer:
    """One request's outcome as the client saw it."""

    kind: str  # "events", "graphql", "mutation", "ofrep", "probe"
    gateway: str  # "A" or "B"
    fault: str  # the fault in progress ("baseline" before any)
    status: int  # NO_ANSWER when the transport failed or the client gave up
    codes: tuple[str, ...]  # every code the body names, in order
    latency_s: float
    retry_after: str | None = None
    error: str | None = None  # the transport failure, when there was no answer
    excerpt: str = ""  # the start of the body, for reports

    @property
    def label(self) -> str:
        """``status`` or ``status CODE`` (the first code): how the summary counts it."""
        if self.status == NO_ANSWER:
            return f"no answer ({self.error})"
        return f"{self.status} {self.codes[0]}" if self.codes else str(self.status)


def codes_of(body: Any) -> tuple[str, ...]:
    """The codes a JSON answer names: GraphQL ``errors[].extensions.code``, REST ``error.code``,
    OFREP ``errorCode`` (of the answer or of each flag)."""
    found: list[str] = []
    if not isinstance(body, dict):
        return ()
    for error in body.get("errors") or ():
        code = error.get("extensions", {}).get("code") if isinstance(error, dict) else None
        found.append(code if isinstance(code, str) else "UNCODED")
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        found.append(error["code"])
    if isinstance(body.get("errorCode"), str):
        found.append(body["errorCode"])
    for flag in body.get("flags") or ():
        if isinstance(flag, dict) and isinstance(flag.get("errorCode"), str):
            found.append(flag["errorCode"])
    return tuple(found)


def parse_body(raw: bytes, content_type: str) -> tuple[Any, tuple[str, ...]]:
    """The JSON body (None when not JSON) and its codes."""
    if "json" not in content_type:
        return None, ()
    try:
        body = json.loads(raw)
    except ValueError:
        return None, ()
    return body, codes_of(body)


def violation(answer: Answer) -> str | None:
    """Why ``answer`` is not one a client can act on, or None when it is."""
    if answer.status == NO_ANSWER:
        return f"no answer: {answer.error}"
    if answer.kind in FLAG_KINDS and (answer.status != 200 or answer.codes):
        return f"{answer.kind} answered {answer.label}: flags must keep serving"
    if 200 <= answer.status < 300:
        if MASKED in answer.codes or "UNCODED" in answer.codes:
            return f"{answer.status} with a masked or uncoded error {answer.codes}"
        return None
    if TIMEOUT_CODE in answer.codes:
        return None
    if answer.status == 503 and answer.codes and answer.codes[0] in UNAVAILABLE_CODES:
        return None if answer.retry_after else "503 without Retry-After"
    if not answer.codes:
        return f"uncoded {answer.status}"
    return f"unexpected {answer.label}"


@dataclass
class Report:
    """Everything the suite checks, computed from the answers and the database."""

    answers: Sequence[Answer]
    acknowledged: set[str]  # event ids the gateway answered "accepted" or "duplicate" for
    stored: Counter[str]  # event id → rows in adoption_events
    sent: set[str]  # every event id any request carried
    convergence_s: dict[str, float | None] = field(default_factory=dict)

    @property
    def lost(self) -> list[str]:
        return sorted(i for i in self.acknowledged if self.stored[i] == 0)

    @property
    def duplicated(self) -> list[str]:
        return sorted(i for i, n in self.stored.items() if n > 1)

    @property
    def phantom(self) -> list[str]:
        """Rows whose id no request carried."""
        return sorted(i for i in self.stored if i not in self.sent)

    def violations(self) -> list[tuple[Answer, str]]:
        return [(a, why) for a in self.answers if (why := violation(a)) is not None]

    def summary(self) -> str:
        """Requests per kind, answers per status and code, the counts the suite asserts."""
        lines = ["fault suite summary"]
        kinds = Counter(a.kind for a in self.answers)
        lines.append("  requests: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        for fault in dict.fromkeys(a.fault for a in self.answers):
            labels = Counter(a.label for a in self.answers if a.fault == fault)
            shown = ", ".join(f"{label}: {n}" for label, n in labels.most_common())
            lines.append(f"  {fault}: {shown}")
        latency = max((a.latency_s for a in self.answers), default=0.0)
        lines.append(
            f"  events acknowledged {len(self.acknowledged)}, lost {len(self.lost)},"
            f" duplicated {len(self.duplicated)}, phantom {len(self.phantom)}"
        )
        reasons = Counter(_kind_of(why) for _, why in self.violations())
        shown = ", ".join(f"{kind} {n}" for kind, n in sorted(reasons.items()))
        lines.append(f"  violations {sum(reasons.values())} ({shown}), max latency {latency:.2f} s")
        for fault, seconds in self.convergence_s.items():
            shown = "never" if seconds is None else f"{seconds:.2f} s"
            lines.append(f"  replica B converged after {fault}: {shown}")
        return "\n".join(lines)


def _kind_of(why: str) -> str:
    """A violation's family, for the summary: masked, uncoded, no answer, flags, other."""
    for marker, kind in (
        ("masked", "masked"),
        ("uncoded", "uncoded"),
        ("no answer", "no answer"),
        ("flags must", "flags failing"),
    ):
        if marker in why:
            return kind
    return "other"


def first(items: Iterable[Any], n: int = 5) -> list[Any]:
    """The first ``n`` items, for assertion messages."""
    out: list[Any] = []
    for item in items:
        if len(out) == n:
            break
        out.append(item)
    return out


def describe(violations: Sequence[tuple[Answer, str]], n: int = 8) -> str:
    """Counts per reason and the first examples, for an assertion message."""
    reasons = Counter(f"{a.kind}@{a.gateway}: {why}" for a, why in violations)
    lines = [f"{len(violations)} answers no client can act on:"]
    lines += [f"  {n}× {reason}" for reason, n in reasons.most_common(15)]
    lines.append("first examples:")
    lines += [
        f"  [{a.fault}] {a.kind}@{a.gateway} {a.label} after {a.latency_s:.2f} s: {a.excerpt!r}"
        for a, _ in violations[:n]
    ]
    return "\n".join(lines)
