"""Bodies and query strings shaped for one endpoint, each field then sent wrong in every way."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from tests.faults.badinput.graphql import WRONG

EVENT = {
    "type": "login",
    "id": "00000000-0000-4000-8000-000000000001",
    "timestamp": "2026-11-25T02:00:00+00:00",
    "deviceId": "device-1",
}
EVENT_EXTRA: list[tuple[str, Any]] = [
    ("installToken", "garbage-token"),
    ("screen", "home"),
    ("tenant", "kim-son"),
    ("memberId", str(uuid.UUID(int=1))),
]
OFREP_CONTEXT = {"targetingKey": None, "branch": "x", "tenant": "yen-mo"}
OIDC = {"code": "c", "codeVerifier": "v", "redirectUri": "https://example.org/cb"}
# Query-string values: garbage, percent-encoded NUL, a surrogate's bytes, invalid UTF-8.
QUERY_VALUES = ("", "x", "%00", "%ED%A0%80", "%FF%FE", "9" * 400, "2026-13-45", "%5B%5B%5B")


def escaped(value: Any) -> bytes:
    """JSON as a client sends it: ASCII escapes carry U+0000 and lone surrogates."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def events() -> Iterator[tuple[str, bytes]]:
    """Batches where one event has one field wrong; the other events are well-formed."""
    good = {**EVENT, "id": "00000000-0000-4000-8000-000000000002"}
    for field in [*EVENT, *(name for name, _ in EVENT_EXTRA)]:
        for kind, wrong in WRONG:
            yield f"event-{field}-{kind}"[:48], escaped([{**EVENT, field: wrong}, good])
    for name, value in EVENT_EXTRA:
        yield f"event-with-{name}", escaped([{**EVENT, name: value}])
    yield "event-batch-of-scalars", escaped([1, None, "x", [], True])
    yield "event-too-many", escaped([EVENT] * 1_001)
    yield "event-object-not-array", escaped(EVENT)


def ofrep() -> Iterator[tuple[str, bytes]]:
    """Evaluation requests with a wrong context, or a context field wrong."""
    for kind, wrong in WRONG:
        yield f"ofrep-context-{kind}", escaped({"context": wrong})
        for field in OFREP_CONTEXT:
            yield f"ofrep-{field}-{kind}"[:48], escaped({"context": {field: wrong}})


def install_tokens() -> Iterator[tuple[str, bytes]]:
    for kind, wrong in WRONG:
        yield f"install-token-deviceId-{kind}", escaped({"deviceId": wrong})
    yield "install-token-extra-fields", escaped({"deviceId": "d", "tenant": "kim-son", "x": [1]})


def oidc() -> Iterator[tuple[str, bytes]]:
    for field in OIDC:
        for kind, wrong in WRONG:
            yield f"oidc-{field}-{kind}"[:48], escaped({**OIDC, field: wrong})


def json_bodies(path: str) -> Iterator[tuple[str, bytes]]:
    """The shaped bodies an endpoint takes, chosen by its path."""
    if path.endswith("/v1/events"):
        yield from events()
    elif "/ofrep/" in path:
        yield from ofrep()
    elif path.endswith("/v1/install-tokens"):
        yield from install_tokens()
    elif path.endswith("/oidc/token"):
        yield from oidc()


def query_strings(names: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(kind, query string): each parameter garbage in turn, already percent-encoded."""
    for name in names:
        for index, value in enumerate(QUERY_VALUES):
            yield f"query-{name}-{index}", f"{name}={value}"
    yield "query-repeated", "&".join(f"{n}=a" for n in names for _ in range(3))
    yield "query-no-values", "&".join(names)


GRAPHQL_GET: list[tuple[str, str]] = [
    ("get-variables-not-json", "query=" + quote("{ __typename }") + "&variables=%7Bbad"),
    ("get-variables-deep", "query=" + quote("{ __typename }") + "&variables=" + "%5B" * 1000),
    ("get-extensions-not-object", "query=" + quote("{ __typename }") + "&extensions=5"),
    ("get-query-nul", "query=%00"),
    ("get-query-invalid-utf8", "query=%FF%FE"),
    ("get-mutation", "query=" + quote("mutation { __typename }")),
    (
        "get-operation-name-surrogate",
        "query=" + quote("{ __typename }") + "&operationName=%ED%A0%80",
    ),
    ("get-persisted-garbage", "extensions=" + quote('{"persistedQuery": {"version": "x"}}')),
]
