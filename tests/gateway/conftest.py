"""Gateway test fixtures: an httpx client on the in-process app with custom edge settings."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import TokenVerifier
from gateway.edge.config import EdgeSettings
from gateway.settings import Settings
from gateway.state import GatewayState
from tests.graphql import asgi_client

EdgeClient = Callable[..., httpx.AsyncClient]


def with_edge(settings: Settings, **overrides: Any) -> Settings:
    """``settings`` with some edge settings replaced (and top-level ones via ``settings__``)."""
    top = {
        key.removeprefix("settings__"): overrides.pop(key)
        for key in list(overrides)
        if key.startswith("settings__")
    }
    edge = settings.edge.model_copy(update=overrides)
    return settings.model_copy(
        update={"edge": EdgeSettings.model_validate(edge.model_dump()), **top}
    )


@pytest.fixture
async def edge_client(gateway: GatewayState) -> AsyncIterator[EdgeClient]:
    """``edge_client(token=..., headers=..., **edge_overrides)`` → a client on a fresh app."""
    clients: list[httpx.AsyncClient] = []

    def make(
        token: str | None = None, headers: dict[str, str] | None = None, **overrides: Any
    ) -> httpx.AsyncClient:
        settings = with_edge(gateway.settings, **overrides)
        state = dataclasses.replace(
            gateway, settings=settings, verifier=TokenVerifier(settings, gateway.registry)
        )
        client = asgi_client(create_app(settings, state=state), token, headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
