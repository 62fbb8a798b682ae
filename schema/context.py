"""The one typed per-request context, built in the GraphQL view's ``get_context``."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from adoption.install_tokens import InstallTokenKey
from db.errors import DomainError
from db.sessions import switch_tenant
from rollout import audit
from rollout.guardrail import Policy
from rollout.kpi import KpiSource
from rollout.snapshot import FlagStore
from rollout.webhooks.urls import OwnOrigins
from schema.errors import tenant_required, unauthenticated
from schema.handbook.loaders import HandbookLoaders, build_loaders
from tenants.handbook.access import Actor
from tenants.identity import Principal
from tenants.registry import TenantInfo, TenantRegistry

T = TypeVar("T")
# How long a closing context waits for database work still running before cancelling it.
CLOSE_GRACE_S = 1.0
# The domains' expected errors: a command that raises one is rolled back (nothing half-written).
EXPECTED_ERRORS = (DomainError,)


class RequestEnded(RuntimeError):
    """Database work asked of a context after it was closed (an orphaned resolver)."""

    def __init__(self) -> None:
        super().__init__("The request has ended: its database session is closed.")


@dataclass
class Context:
    request: Request | None
    response: Response | None
    session: AsyncSession
    principal: Principal | None
    tenant: TenantInfo | None
    registry: TenantRegistry
    now: dt.datetime
    install_key: InstallTokenKey  # checks the install tokens sent with events
    kpis: KpiSource  # adoption's, wired by the gateway; rollout's gates and guardrail read it
    flags: FlagStore = field(default_factory=FlagStore)
    guardrail: Policy = field(default_factory=Policy)  # the deployment's guardrail settings
    webhook_origins: OwnOrigins = field(default_factory=OwnOrigins)  # a webhook may not go there
    router: bool = False  # the gateway verified the federation router's credential
    # Drops a revoked service credential from this process's key cache (wired by the gateway).
    forget_service_key: Callable[[str], None] = lambda _credential_id: None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _work: set[asyncio.Future[Any]] = field(default_factory=set)
    _closed: bool = False
    _actors: dict[str, Actor] = field(default_factory=dict)
    _loaders: dict[str, HandbookLoaders] = field(default_factory=dict)
    # Decisions that hold for the whole request (who the caller is to flags, which gates are
    # open), made once by the first field that needs them.
    decisions: dict[object, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every audit row this request's session records keeps the caller's name.
        audit.act_as(self.session, self.principal.name if self.principal else None)

    @property
    def loaders(self) -> HandbookLoaders:
        """The request tenant's DataLoaders."""
        return self.loaders_for(self.tenant_id)

    def loaders_for(self, tenant_id: str) -> HandbookLoaders:
        """DataLoaders that fetch in ``tenant_id``; one set per tenant per request.

        Rows carry their tenant, so a field under a row loads its relations with
        ``loaders_for(row.tenant_id)``: a tenant read by slug gets its own nested data. Pass
        only a tenant the caller was checked to cover, as for :meth:`run_for`.
        """
        loaders = self._loaders.get(tenant_id)
        if loaders is None:
            loaders = build_loaders(partial(self.run_for, tenant_id), self.now)
            self._loaders[tenant_id] = loaders
        return loaders

    def principal_or_raise(self) -> Principal:
        """The verified caller; UNAUTHENTICATED without a token (as a permission check says)."""
        if self.principal is None:
            raise unauthenticated()
        return self.principal

    @property
    def tenant_id(self) -> str:
        if self.tenant is None:
            raise tenant_required()
        return self.tenant.id

    async def run(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Call a service function with this request's session and tenant, one at a time.

        An AsyncSession allows one operation at a time, while GraphQL resolves sibling
        fields concurrently: the lock serialises them.
        """
        return await self._alone(
            lambda: fn(session=self.session, tenant_id=self.tenant_id, **kwargs)
        )

    async def run_for(self, tenant_id: str, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """As :meth:`run`, on a tenant the caller was checked to cover (a tenant read by slug).

        The session stays one transaction: it acts for ``tenant_id`` for this call only.
        """
        if self.tenant is not None and tenant_id == self.tenant.id:
            return await self.run(fn, **kwargs)
        return await self._alone(lambda: self._as_tenant(tenant_id, fn, **kwargs))

    async def _as_tenant(self, tenant_id: str, fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        await switch_tenant(self.session, tenant_id)
        try:
            return await fn(session=self.session, tenant_id=tenant_id, **kwargs)
        finally:
            await switch_tenant(self.session, self.tenant.id if self.tenant else None)

    async def run_province(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Call a province-level service function (it takes no tenant) on this request's session."""
        return await self._alone(lambda: fn(session=self.session, **kwargs))

    async def command(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Run a writing service function.

        On an expected error of any domain (:data:`EXPECTED_ERRORS`) roll back, so nothing is
        half-written, then let it reach the caller; an unexpected one ends the request, whose
        session is closed unsaved.
        """
        return await self._alone(lambda: self._or_roll_back(fn, **kwargs))

    async def _or_roll_back(self, fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        try:
            return await fn(session=self.session, tenant_id=self.tenant_id, **kwargs)
        except EXPECTED_ERRORS:
            await self.session.rollback()
            raise

    async def commit(self) -> None:
        """Commit the request's transaction (a mutation's writes)."""
        await self._alone(self.session.commit)

    async def rollback(self) -> None:
        """Roll back the request's transaction (an expected error: nothing half-written)."""
        await self._alone(self.session.rollback)

    async def release(self) -> None:
        """End the session's transaction and return its connection (between subscription events)."""
        await self._alone(self.session.rollback)

    async def close(self) -> None:
        """End the request: settle database work in flight, refuse any more, close the session.

        GraphQL may leave a resolver running after the result is known (a non-null sibling
        failed): its work finishes or is refused, never meets a closed session mid-statement.
        Work still running after :data:`CLOSE_GRACE_S` (the request timed out) is cancelled and
        the connection discarded, since a statement cut midway leaves it unusable.
        """
        self._closed = True
        if self._work:
            _, stuck = await asyncio.wait(set(self._work), timeout=CLOSE_GRACE_S)
            if stuck:
                for task in stuck:
                    task.cancel()
                await asyncio.wait(stuck)
                await self.session.invalidate()
                return
        await self.session.close()

    async def _alone(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` on the session alone, to its end even if the caller is cancelled.

        Cancelling a statement midway leaves the connection busy ("another operation is in
        progress"); the caller stops waiting instead, and :meth:`close` waits for the work.
        """
        if self._closed:
            raise RequestEnded
        task = asyncio.ensure_future(self._locked(work))
        self._work.add(task)
        task.add_done_callback(self._settled)
        return await asyncio.shield(task)

    async def _locked(self, work: Callable[[], Awaitable[T]]) -> T:
        async with self._lock:
            if self._closed:
                raise RequestEnded
            return await work()

    def _settled(self, task: asyncio.Future[Any]) -> None:
        self._work.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here: a cancelled caller no longer will

    async def actor(self) -> Actor:
        """The principal as the handbook sees it: roles, and the member and branch if any."""
        return await self.actor_in(self.tenant_id)

    async def actor_in(self, tenant_id: str) -> Actor:
        """As :meth:`actor`, in ``tenant_id``: the member and branch only in the home tenant."""
        actor = self._actors.get(tenant_id)
        if actor is None:
            assert self.principal is not None  # permissions run before any resolver asks
            member = None
            member_id = _as_uuid(self.principal.subject)
            if member_id is not None and self.principal.tenant == tenant_id:
                member = await self.loaders_for(tenant_id).member_by_id.load(member_id)
            actor = Actor(
                subject=self.principal.subject,
                roles=self.principal.roles,
                member_id=member.id if member else None,
                branch_id=member.branch_id if member else None,
            )
            self._actors[tenant_id] = actor
        return actor


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
