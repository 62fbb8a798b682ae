"""JSON error answers shaped like GraphQL responses, for refusals before GraphQL runs."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A 4xx/5xx answer with a GraphQL-shaped ``errors`` list."""
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


async def send_error(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    """Send :func:`error_response` from pure ASGI middleware."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    await error_response(status, code, message, headers)(scope, receive, send)
