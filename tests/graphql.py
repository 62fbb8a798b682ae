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
