"""The one typed per-request context, built in the GraphQL view's ``get_context``."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import Principal
from rollout.kpi import KpiSource
from rollout.snapshot import FlagStore
from schema.errors import PilotGraphError
from schema.handbook.loaders import HandbookLoaders, build_loaders
from tenants.db import switch_tenant
from tenants.errors import TenantsError
from tenants.handbook.access import Actor
from tenants.registry import TenantInfo, TenantRegistry

T = TypeVar("T")


@dataclass
class Context:
    request: Request | None
    response: Response | None
    session: AsyncSession
    principal: Principal | None
    tenant: TenantInfo | None
    registry: TenantRegistry
    now: dt.datetime
    flags: FlagStore = field(default_factory=FlagStore)
    kpis: KpiSource | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _actor: Actor | None = None
    loaders: HandbookLoaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = build_loaders(self.run, self.now)

    @property
    def tenant_id(self) -> str:
        if self.tenant is None:
            raise PilotGraphError("TENANT_REQUIRED", "Choose a tenant for this request.")
        return self.tenant.id

    async def run(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Call a service function with this request's session and tenant, one at a time.

        An AsyncSession allows one operation at a time, while GraphQL resolves sibling
        fields concurrently: the lock serialises them.
        """
        async with self._lock:
            return await fn(session=self.session, tenant_id=self.tenant_id, **kwargs)

    async def run_for(self, tenant_id: str, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """As :meth:`run`, on a tenant the caller was checked to cover (a tenant read by slug)."""
        if self.tenant is not None and tenant_id == self.tenant.id:
            return await self.run(fn, **kwargs)
        async with self._lock:
            await switch_tenant(self.session, tenant_id)
            try:
                return await fn(session=self.session, tenant_id=tenant_id, **kwargs)
            finally:
                await switch_tenant(self.session, self.tenant.id if self.tenant else None)

    async def run_province(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Call a province-level service function (it takes no tenant) on this request's session."""
        async with self._lock:
            return await fn(session=self.session, **kwargs)

    async def command(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Run a writing service function.

        On an expected error roll back, so nothing is half-written.
        """
        async with self._lock:
            try:
                return await fn(session=self.session, tenant_id=self.tenant_id, **kwargs)
            except TenantsError:
                await self.session.rollback()
                raise

    async def actor(self) -> Actor:
        """The principal as the handbook sees it: roles, and the member and branch if any."""
        if self._actor is None:
            assert self.principal is not None  # permissions run before any resolver asks
            member = None
            member_id = _as_uuid(self.principal.subject)
            if member_id is not None and self.principal.tenant == self.tenant_id:
                member = await self.loaders.member_by_id.load(member_id)
            self._actor = Actor(
                subject=self.principal.subject,
                roles=self.principal.roles,
                member_id=member.id if member else None,
                branch_id=member.branch_id if member else None,
            )
        return self._actor


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
