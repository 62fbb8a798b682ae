"""Malformed bodies, content types and headers that any endpoint may be sent."""

from __future__ import annotations

import json

JSON = "application/json"
NDJSON = "application/x-ndjson"
DEEP = 1_000


def _deep_array(depth: int = DEEP) -> bytes:
    return b"[" * depth + b"]" * depth


def _deep_object(depth: int = DEEP) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _escaped(value: object) -> bytes:
    """JSON with ASCII escapes: how a client sends U+0000 and lone surrogates."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


# (kind, content type or None, body)
BODIES: list[tuple[str, str | None, bytes]] = [
    ("empty-body", JSON, b""),
    ("empty-body-no-type", None, b""),
    ("whitespace-body", JSON, b"  \n\t "),
    ("malformed-json", JSON, b"{bad"),
    ("truncated-json", JSON, b'{"query": "{ __typename }", "variables": {"a": ['),
    ("json-null", JSON, b"null"),
    ("json-number", JSON, b"42"),
    ("json-string", JSON, b'"query"'),
    ("json-true", JSON, b"true"),
    ("json-empty-array", JSON, b"[]"),
    ("json-empty-object", JSON, b"{}"),
    ("deep-array", JSON, _deep_array()),
    ("deep-object", JSON, _deep_object()),
    ("deep-array-in-ndjson", NDJSON, _deep_array() + b"\n"),
    ("deep-brackets-in-string", JSON, _escaped({"query": "[" * DEEP})),
    ("huge-integer", JSON, b'{"query": ' + b"9" * 5_000 + b"}"),
    ("huge-float", JSON, b'{"query": "{ __typename }", "variables": {"a": 1e999999}}'),
    ("nan-infinity", JSON, b'{"query": "{ __typename }", "variables": {"a": NaN, "b": -Infinity}}'),
    ("invalid-utf8", JSON, b'{"query": "\xff\xfe\xc3\x28"}'),
    ("utf16-body", JSON, '{"query": "{ __typename }"}'.encode("utf-16")),
    ("utf8-bom", JSON, b'\xef\xbb\xbf{"query": "{ __typename }"}'),
    ("raw-nul-byte", JSON, b'{"query": "{ __typename }\x00"}'),
    ("nul-escape-everywhere", JSON, _escaped({"query\u0000": "a\u0000", "\u0000": ["\u0000"]})),
    ("surrogate-everywhere", JSON, _escaped({"query": "\ud800", "\udfff": {"x": "\udc00a"}})),
    ("duplicate-keys", JSON, b'{"query": "{ __typename }", "query": 1}'),
    ("batch-of-garbage", JSON, b'[1, null, "x", {}, [], {"query": 1}]'),
    ("ndjson-garbage", NDJSON, b'{"type": "login"}\nnot json\n[1,2\n\x00\xff\n'),
    ("ndjson-scalars", NDJSON, b'1\nnull\n"x"\ntrue\n'),
    ("form-encoded", "application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
    ("multipart-garbage", "multipart/form-data; boundary=x", b"--x\r\nbroken"),
    ("multipart-no-boundary", "multipart/form-data", b"garbage"),
    ("text-plain", "text/plain", b"{ __typename }"),
    ("xml", "application/xml", b"<query/>"),
    ("json-latin1-charset", "application/json; charset=latin-1", b'{"query": "{ __typename }"}'),
    ("garbage-content-type", "\x01;;;=/", b'{"query": "{ __typename }"}'),
    ("oversized-body", JSON, b'{"query": "' + b"a" * (1_100 * 1024) + b'"}'),
]

# (kind, extra headers) for a well-formed request
HEADERS: list[tuple[str, tuple[tuple[str, str], ...]]] = [
    ("garbage-accept", (("accept", "*/*;q=abc, text/html;;;q"),)),
    ("unacceptable-accept", (("accept", "image/png"),)),
    ("garbage-x-tenant", (("x-tenant", "%00\t" + "x" * 200),)),
    ("oversized-header", (("x-padding", "p" * 6_000),)),
    ("bad-content-length", (("content-length", "-1"),)),
    ("garbage-host", (("host", "no such host:99999"),)),
    ("garbage-cookie", (("cookie", "=;=;" + "a" * 500),)),
]

# (kind, Authorization value)
TOKENS: list[tuple[str, str]] = [
    ("token-bare-bearer", "Bearer"),
    ("token-not-jwt", "Bearer not-a-token"),
    ("token-three-garbage-parts", "Bearer a.b.c"),
    ("token-bad-base64", "Bearer eyJ!!!.eyJ!!!.sig"),
    ("token-alg-none", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ("token-json-not-object", "Bearer WzFd.WzFd.c2ln"),
    ("token-oversized", "Bearer " + "a" * 6_000),
    ("token-basic-scheme", "Basic dXNlcjpwYXNz"),
    ("token-empty", ""),
]
