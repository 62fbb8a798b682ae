"""GraphQL over HTTP: media types, request parameters, and how results map to status codes.

Follows the GraphQL-over-HTTP specification: ``application/graphql-response+json`` is preferred
and answers request errors with 400 and no ``data``; ``application/json`` (legacy, and what
``*/*`` or no ``Accept`` get) answers every well-formed request with 200.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from graphql import GraphQLError

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SUPPORTED = (GRAPHQL_RESPONSE, JSON)


class EdgeRefusal(Exception):
    """A request refused before GraphQL runs: HTTP status, code, message, extra headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Params:
    """One operation's request parameters."""

    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


def negotiate(accept: str | None) -> str:
    """The response media type for an ``Accept`` header, or a 406 refusal."""
    if not accept or not accept.strip():
        return JSON
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = _quality(params)
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            ranked.append((quality, -index, GRAPHQL_RESPONSE))
        elif media in (JSON, "application/*", "*/*"):
            ranked.append((quality, -index, JSON))
    if not ranked:
        raise EdgeRefusal(
            406,
            "NOT_ACCEPTABLE",
            f"Accept one of {', '.join(SUPPORTED)}.",
        )
    return max(ranked)[2]


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
SIMPLE_CONTENT_TYPES = frozenset(
    {"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)


def check_preflighted(headers: Mapping[str, str]) -> None:
    """CSRF: refuse a request a cross-site page could send without a CORS preflight.

    POST bodies must be ``application/json`` (not a simple content type) anyway; a GET must
    carry a custom header such as ``GraphQL-Require-Preflight: 1``.
    """
    if any(headers.get(name) for name in PREFLIGHT_HEADERS):
        return
    media = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in SIMPLE_CONTENT_TYPES:
        return
    raise EdgeRefusal(
        400,
        "CSRF_PREFLIGHT_REQUIRED",
        "GET operations need a GraphQL-Require-Preflight header (CSRF protection).",
    )


def check_content_type(content_type: str | None) -> None:
    """POST bodies must be JSON in UTF-8 (the default when no charset is given)."""
    media, _, params = (content_type or "").partition(";")
    if media.strip().lower() != JSON:
        raise EdgeRefusal(400, "UNSUPPORTED_CONTENT_TYPE", "Unsupported content type")
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise EdgeRefusal(415, "UNSUPPORTED_CHARSET", "Request bodies must be UTF-8.")


# Deeper JSON is refused before parsing: Python's json recurses (RecursionError at ~1,000).
MAX_JSON_DEPTH = 64
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def decode_json(body: bytes) -> Any:
    """The JSON of a request body (UTF-8), or the MALFORMED_JSON or JSON_TOO_DEEP refusal."""
    check_json_depth(body)
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EdgeRefusal(400, "MALFORMED_JSON", "Unable to parse request body as JSON") from exc


def check_json_depth(body: bytes) -> None:
    """Refuse JSON nested deeper than ``MAX_JSON_DEPTH``: brackets outside strings, in C loops."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if max(accumulate(_STEP[b] for b in brackets), default=0) > MAX_JSON_DEPTH:
        raise EdgeRefusal(
            400, "JSON_TOO_DEEP", f"The JSON nests more than {MAX_JSON_DEPTH} levels deep."
        )


def params_from_json(data: Any) -> Params:
    """Validate one operation's parameters from a JSON body."""
    if not isinstance(data, dict):
        raise EdgeRefusal(400, "BAD_REQUEST", "The request body must be a JSON object.")
    return _params(
        data.get("query"), data.get("variables"), data.get("operationName"), data.get("extensions")
    )


def params_from_query_string(items: dict[str, str]) -> Params:
    """Validate one operation's parameters from a GET query string (JSON-encoded maps)."""
    return _params(
        items.get("query"),
        _json_param(items.get("variables"), "variables"),
        items.get("operationName"),
        _json_param(items.get("extensions"), "extensions"),
    )


def _json_param(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    check_json_depth(raw.encode("utf-8"))
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise EdgeRefusal(400, "BAD_REQUEST", f"The `{name}` parameter must be JSON.") from exc


def _params(query: Any, variables: Any, operation_name: Any, extensions: Any) -> Params:
    if not isinstance(query, str | None):
        raise EdgeRefusal(400, "BAD_REQUEST", "The `query` parameter must be a string.")
    if not isinstance(variables, dict | None):
        raise EdgeRefusal(400, "BAD_REQUEST", "The `variables` parameter must be an object.")
    if not isinstance(operation_name, str | None):
        raise EdgeRefusal(400, "BAD_REQUEST", "The `operationName` parameter must be a string.")
    if not isinstance(extensions, dict | None):
        raise EdgeRefusal(400, "BAD_REQUEST", "The `extensions` parameter must be an object.")
    return Params(query, variables, operation_name, extensions or {})


def is_request_error(data: Any, errors: list[GraphQLError] | None) -> bool:
    """A request error: GraphQL refused the document or variables, so nothing executed."""
    return data is None and bool(errors) and all(not error.path for error in errors or [])
