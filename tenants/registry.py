"""The tenant registry: an immutable in-process snapshot, reloaded when tenants change.

Requests look tenants up here, never in the database. A change made through
``tenants.service`` calls :meth:`TenantRegistry.reload`; on PostgreSQL the change is also
broadcast (``NOTIFY pilotgraph_tenants``) so that every replica reloads, and every replica
reloads periodically as well (:meth:`TenantRegistry.listener`), as flags do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.broadcast import RESYNC_S, Listener
from tenants import service
from tenants.errors import TenantNotFound


@dataclass(frozen=True, slots=True)
class TenantInfo:
    id: str
    name: str
    kind: str
    province_id: str
    province_name: str
    timezone: str
    parent_id: str | None


class TenantRegistry:
    """Immutable snapshots of every tenant, swapped atomically on reload."""

    def __init__(self) -> None:
        self._tenants: Mapping[str, TenantInfo] = MappingProxyType({})
        self._provinces: frozenset[str] = frozenset()
        self._lock = asyncio.Lock()
        self.loads = 0

    async def reload(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read every tenant from the database and swap the snapshot."""
        async with self._lock, sessionmaker() as session:
            provinces = {p.id: p for p in await service.list_provinces(session=session)}
            tenants = await service.list_tenants(session=session)
        snapshot = {
            t.id: TenantInfo(
                id=t.id,
                name=t.name,
                kind=t.kind,
                province_id=t.province_id,
                province_name=provinces[t.province_id].name,
                timezone=provinces[t.province_id].timezone,
                parent_id=t.parent_id,
            )
            for t in tenants
        }
        self._tenants = MappingProxyType(snapshot)
        self._provinces = frozenset(provinces)
        self.loads += 1

    def listener(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        resync_s: float = RESYNC_S,
    ) -> Listener:
        """A listener that reloads this registry on every tenant change, after every
        (re)connect and every ``resync_s`` seconds; start it, and stop it at shutdown."""

        async def reload(_payload: str) -> None:
            await self.reload(sessionmaker)

        return Listener(engine, service.CHANNEL, reload, resync_s=resync_s)

    def get(self, slug: str) -> TenantInfo | None:
        """The tenant with this slug, or None."""
        return self._tenants.get(slug)

    def get_or_raise(self, slug: str) -> TenantInfo:
        """The tenant with this slug; raises :class:`TenantNotFound`."""
        tenant = self._tenants.get(slug)
        if tenant is None:
            raise TenantNotFound(slug)
        return tenant

    def has_province(self, province_id: str) -> bool:
        """Whether a province with this id exists (with or without tenants)."""
        return province_id in self._provinces

    def all(self) -> list[TenantInfo]:
        """Every tenant, by slug."""
        return sorted(self._tenants.values(), key=lambda t: t.id)
