"""Service credentials at the edge: a ``pgk_…`` bearer key becomes a service principal.

Accepted on the OFREP routes only; anywhere else it is refused (401
``SERVICE_CREDENTIAL_NOT_ACCEPTED``). A credential is held in process for ``ttl_s`` (30 s) by its
public id (unique across provinces) together with the digest of the secret it matched: only a
matched key is held, and a key presenting another secret under the same id (a wrong one, or a
secret the row no longer has) never hits that entry but reads the row again. The entry carries
the credential's province and tenant, and the principal is built from them. A revocation through
this process's GraphQL is honoured here at once (:meth:`ServiceKeys.forget`); on other replicas,
or from the CLI, within ``ttl_s``, with no broadcast a disconnected replica could miss; an expiry
is checked on every request. The
last-used time is written at most once per ``touch_every_s`` (60 s) per credential and process
(keyed by province, tenant and id), not once per request.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth import AuthError
from tenants.credentials import service
from tenants.credentials.service import Credential
from tenants.identity import Principal

OFREP_PATH = "/ofrep/"


class ServiceKeyRefused(AuthError):
    """A service credential presented where it is not accepted."""

    code = "SERVICE_CREDENTIAL_NOT_ACCEPTED"


def is_service_key(token: str) -> bool:
    """Whether a bearer token is a service credential (never a JWT: those have no ``_`` prefix)."""
    return token.startswith(service.PREFIX)


class ServiceKeys:
    def __init__(
        self,
        *,
        ttl_s: float = 30.0,
        touch_every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s, self.touch_every_s, self.clock = ttl_s, touch_every_s, clock
        # public id → (when read, digest of the secret it matched, the credential)
        self._held: dict[str, tuple[float, str, Credential]] = {}
        self._touched: dict[tuple[str | None, str | None, str], float] = {}

    def forget(self, credential_id: str) -> None:
        """Drop a credential from this process at once (the revoking replica calls it)."""
        self._held.pop(credential_id, None)

    async def verify(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        key: str,
        *,
        path: str,
        now: dt.datetime,
    ) -> Principal:
        """The principal of a usable key on an OFREP path; raises :class:`AuthError`."""
        if not path.startswith(OFREP_PATH):
            raise ServiceKeyRefused("Service credentials are accepted on the OFREP routes only.")
        parts = service.split_key(key)
        if parts is None:
            raise AuthError("The service credential is malformed.")
        credential = await self._credential(sessionmaker, *parts)
        if credential is None:
            raise AuthError("The service credential was refused.")
        if not credential.usable_at(now):
            raise AuthError("The service credential is revoked or expired.")
        await self._touch(sessionmaker, credential, now)
        return Principal(
            subject=f"service:{credential.id}",
            roles=frozenset(),
            tenant=credential.tenant_id,
            province=credential.province_id,
            service=True,
        )

    async def _credential(
        self, sessionmaker: async_sessionmaker[AsyncSession], credential_id: str, secret: str
    ) -> Credential | None:
        """The credential if ``secret`` is its secret, else None."""
        presented = service.digest(secret)
        held = self._held.get(credential_id)
        if held is not None and held[1] == presented and self.clock() - held[0] < self.ttl_s:
            return held[2]
        async with sessionmaker() as session:
            credential = await service.get(session=session, credential_id=credential_id)
        if credential is None or not service.matches(credential, secret):
            return None  # not held: made-up ids and secrets must not fill memory
        self._held[credential_id] = (self.clock(), presented, credential)
        return credential

    async def _touch(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        credential: Credential,
        now: dt.datetime,
    ) -> None:
        key = (credential.province_id, credential.tenant_id, credential.id)
        last = self._touched.get(key)
        if last is not None and self.clock() - last < self.touch_every_s:
            return
        self._touched[key] = self.clock()
        async with sessionmaker() as session, session.begin():
            await service.touch(session=session, credential_id=credential.id, at=now)
