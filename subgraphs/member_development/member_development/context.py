"""The per-request context: settings, the verified principal, and a way to call services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from member_development import service
from member_development.auth import Principal
from member_development.models import TenantRecord

T = TypeVar("T")


def error(code: str, message: str) -> GraphQLError:
    """An expected error: its code and message reach the client."""
    return GraphQLError(message, extensions={"code": code})


@dataclass
class RequestContext:
    sessionmaker: async_sessionmaker[AsyncSession]
    principal: Principal | None

    async def run(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Call a service function in its own short session (resolvers run concurrently)."""
        async with self.sessionmaker() as session:
            return await fn(session=session, **kwargs)

    def principal_or_raise(self) -> Principal:
        if self.principal is None:
            raise error("UNAUTHENTICATED", "Sign in: this field needs a bearer token.")
        return self.principal

    async def covered_tenant_or_raise(self, slug: str) -> TenantRecord:
        """The tenant, if the caller's token covers it: the same rule as PilotGraph's."""
        principal = self.principal_or_raise()
        tenant = await self.run(service.get_tenant, tenant_id=slug)
        if tenant is None:
            raise error("TENANT_NOT_FOUND", f"Tenant '{slug}' does not exist.")
        if not principal.covers(tenant.slug, tenant.province_id):
            raise error("FORBIDDEN_TENANT", f"Your role does not cover tenant '{slug}'.")
        return tenant
