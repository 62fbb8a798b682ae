"""Pure checks on one answer: every refusal coded, no 5xx, no stack trace, whatever was sent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Python's traceback header and frame lines; what an uncaught exception prints.
STACK_TRACE = re.compile(rb'Traceback \(most recent call last\)|File "[^"\n]+", line \d+')
UNEXPECTED = "INTERNAL_SERVER_ERROR"


@dataclass(frozen=True)
class Probe:
    """One request to send: what kind of bad input it carries, and the request itself."""

    kind: str
    method: str
    path: str  # with its query string, already encoded
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None

    def describe(self) -> str:
        body = (self.content or b"")[:160]
        return f"{self.method} {self.path[:160]} {dict(self.headers)} {body!r}"


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Finding:
    kind: str
    probe: str
    problem: str


def problems(method: str, answer: Answer, deliberate: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with an answer: a 5xx, an uncoded refusal or error, a stack trace.

    ``deliberate``: codes a 5xx may carry in this run (e.g. ``CONSOLE_NOT_BUILT`` on a
    server started from a source tree whose console was never built).
    """
    found = [f"status {answer.status}"] if answer.status >= 500 else []
    if STACK_TRACE.search(answer.content):
        found.append("stack trace in the answer")
    is_json = "json" in answer.content_type
    if answer.status >= 400 and not is_json:
        found.append(f"uncoded {answer.status} ({answer.content_type or 'no content type'})")
    if not is_json or method == "HEAD":
        return found
    try:
        body = json.loads(answer.content)
    except ValueError:
        return [*found, f"not JSON although {answer.content_type}"]
    codes = list(_codes(body))
    if found[:1] == [f"status {answer.status}"] and codes and {c[0] for c in codes} <= deliberate:
        found.pop(0)
    if answer.status >= 400 and not codes:
        found.append(f"{answer.status} without a code: {answer.content[:200]!r}")
    found += [f"uncoded error: {c[1]}" for c in codes if c[0] is None]
    found += [f"{UNEXPECTED}: {c[1]}" for c in codes if c[0] == UNEXPECTED]
    return found


def _codes(body: Any) -> Iterator[tuple[str | None, str]]:
    """(code, excerpt) of every error in a GraphQL, OFREP or events answer (batches too)."""
    for item in body if isinstance(body, list) else [body]:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("errorCode"), str):
            yield item["errorCode"], str(item.get("errorDetails"))[:200]
        for error in item.get("errors") or []:
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            excerpt = json.dumps(error, ensure_ascii=True)[:200]
            yield (code if isinstance(code, str) and code else None), excerpt
        for result in item.get("results") or []:
            if isinstance(result, dict) and result.get("status") == "refused":
                yield result.get("code") or None, json.dumps(result)[:200]


def report(findings: list[Finding], examples: int = 30) -> str:
    """One line per (kind, problem shape), with a count and the first request that showed it."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.kind, finding.problem[:60]), []).append(finding)
    lines = [f"{len(findings)} findings in {len(groups)} groups:"]
    for (kind, _), group in sorted(groups.items())[:examples]:
        lines.append(f"- {kind} x{len(group)}: {group[0].problem}\n    e.g. {group[0].probe}")
    return "\n".join(lines)
