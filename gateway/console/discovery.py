"""The issuer's OpenID configuration, read once per gateway process.

Keycloak's discovery document changes only with the realm's configuration, so the console's
sign-in reads it once and keeps it. A failed read is not cached: the next sign-in asks again,
but not before ``retry_after_s``, so an issuer that is down is not asked on every click.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

DISCOVERY = "/.well-known/openid-configuration"
TIMEOUT_S = 10.0
RETRY_AFTER_S = 10.0
ENDPOINTS = ("authorization_endpoint", "token_endpoint")


class DiscoveryFailed(Exception):
    """The issuer's configuration could not be read (now, or within the retry delay)."""


class Discovery:
    """The configuration of one issuer, fetched on first use and kept for the process."""

    def __init__(self, issuer: str, *, retry_after_s: float = RETRY_AFTER_S) -> None:
        self.issuer = issuer
        self.retry_after_s = retry_after_s
        self.fetches = 0
        self._document: dict[str, str] | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def endpoints(self) -> dict[str, str]:
        """``authorization_endpoint`` and ``token_endpoint``; raises :class:`DiscoveryFailed`."""
        if self._document is not None:
            return self._document
        async with self._lock:  # concurrent sign-ins wait for one read
            if self._document is not None:
                return self._document
            if self._failed_at is not None and self._since_failure() < self.retry_after_s:
                raise DiscoveryFailed("the issuer did not answer a moment ago")
            try:
                self._document = await self._fetch()
            except DiscoveryFailed:
                self._failed_at = time.monotonic()
                raise
            return self._document

    def _since_failure(self) -> float:
        return time.monotonic() - (self._failed_at or 0.0)

    async def _fetch(self) -> dict[str, str]:
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
                response = await client.get(self.issuer.rstrip("/") + DISCOVERY)
                response.raise_for_status()
                document: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DiscoveryFailed(str(exc)) from exc
        if not isinstance(document, dict) or not all(
            isinstance(document.get(key), str) for key in ENDPOINTS
        ):
            raise DiscoveryFailed("the configuration names no authorization or token endpoint")
        return {key: document[key] for key in ENDPOINTS}
