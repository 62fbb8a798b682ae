"""Pure checks on one answer: leaked data, uncoded errors, server errors; and write diffs."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

GLOBAL_ID = re.compile(r"^[A-Za-z0-9_-]{8,}={0,2}$")


@dataclass(frozen=True)
class Answer:
    """What one attempt got back, over any transport."""

    status: int
    body: Any  # parsed JSON, or the text when not JSON
    transport: str = "http"


@dataclass(frozen=True)
class Finding:
    kind: str  # leak, uncoded, write, ws_limits
    caller: str
    operation: str  # what was tried: field and route shape, for grouping
    request: str
    detail: str


def report(findings: list[Finding], examples: int = 40) -> str:
    """One line per (kind, operation, role), with a count and the first example."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.kind, f.operation, f.caller.split("@")[0]), []).append(f)
    lines = [f"{len(findings)} findings in {len(groups)} groups:"]
    for (kind, operation, role), group in sorted(groups.items())[:examples]:
        first = group[0]
        lines.append(
            f"- {kind} {operation} as {role} x{len(group)}: {first.detail[:900]}"
            f"\n    e.g. {first.caller}: {first.request[:400]}"
        )
    return "\n".join(lines)


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (keys included), and what a global ID decodes to."""
    if isinstance(value, str):
        yield value
        yield from _decoded(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def _decoded(value: str) -> Iterator[str]:
    if not GLOBAL_ID.match(value):
        return
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return
    if text.isprintable():
        yield text


def leaks(
    answer: Answer, owners: Mapping[str, frozenset[str]], cover: frozenset[str], sent: str
) -> list[str]:
    """Data of tenants outside ``cover`` found in the answer; what the caller sent is no leak."""
    text = "\n".join(strings(answer.body))
    return sorted(
        datum
        for datum, whose in owners.items()
        if not whose & cover and datum in text and datum not in sent
    )


def uncoded(answer: Answer) -> list[str]:
    """Errors without ``extensions.code``, and any 5xx but a coded 503 (unavailable, retry)."""
    deliberate = answer.status == 503 and any(True for _ in _errors(answer.body))
    problems = [f"status {answer.status}"] if answer.status >= 500 and not deliberate else []
    for error in _errors(answer.body):
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        if not isinstance(code, str) or not code:
            problems.append(f"uncoded error: {json.dumps(error, ensure_ascii=False)[:200]}")
    return problems


def _errors(body: Any) -> Iterator[Any]:
    for item in body if isinstance(body, list) else [body]:
        if isinstance(item, dict) and isinstance(item.get("errors"), list):
            yield from item["errors"]


def foreign_writes(
    before: Mapping[tuple[str, str], str],
    after: Mapping[tuple[str, str], str],
    cover: frozenset[str],
) -> list[str]:
    """(table, owners) whose rows changed although none of the owners is in ``cover``."""
    keys = set(before) | set(after)
    return sorted(
        f"{table}/{owners}"
        for table, owners in keys
        if not set(owners.split(",")) & cover
        and before.get((table, owners)) != after.get((table, owners))
    )


def applied(answer: Answer) -> bool:
    """Whether a mutation answer reports success: a payload with an empty ``errors`` list."""
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    payloads = (data or {}).values()
    return any(isinstance(p, dict) and p.get("errors") == [] for p in payloads)


def has_data(answer: Answer) -> bool:
    """Whether an answer carries any non-null ``data`` (for parity checks between transports)."""
    body = answer.body
    items = body if isinstance(body, list) else [body]
    return any(isinstance(i, dict) and i.get("data") not in (None, {}) for i in items)
