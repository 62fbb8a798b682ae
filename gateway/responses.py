"""JSON error answers shaped like GraphQL responses, for refusals before GraphQL runs."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from db.errors import DomainError
from gateway.edge.documents import RETRY_AFTER_S
from gateway.observability import metrics
from schema.errors import Unexpected


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A 4xx/5xx answer with a GraphQL-shaped ``errors`` list."""
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    metrics.count_server_error(status, code)
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(status: int, exc: DomainError) -> JSONResponse:
    """A domain error as a coded 4xx: the same code and message GraphQL would give."""
    return error_response(status, exc.code, exc.message)


async def send_error(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    """Send :func:`error_response` from pure ASGI middleware."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    await error_response(status, code, message, headers)(scope, receive, send)


def fault_response(fault: Unexpected) -> JSONResponse:
    """The answer to an unexpected exception: 503 with ``Retry-After`` when the database failed
    or was too slow (the client may retry), else 500; both coded, with the logged error id."""
    if fault.retryable:
        status, headers = 503, {"Retry-After": RETRY_AFTER_S}
    else:
        status, headers = 500, None
    body = {"errors": [{"message": fault.message, "extensions": fault.extensions}]}
    metrics.count_server_error(status, str(fault.extensions.get("code", "")))
    return JSONResponse(body, status_code=status, headers=headers)
