"""Posting GraphQL documents in tests."""

from __future__ import annotations

from typing import Any

import httpx


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    path: str = "/graphql",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        path, json={"query": query, "variables": variables or {}}, headers=headers
    )
    return response.status_code, response.json()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def asgi_client(
    app: Any, token: str | None = None, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """An httpx client on an in-process ASGI app, signed in with ``token`` when given."""
    merged = dict(headers or {})
    if token is not None:
        merged["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=merged
    )
