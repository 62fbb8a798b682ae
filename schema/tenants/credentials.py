"""Service credentials in GraphQL: province admins list, create and revoke their province's keys.

Thin resolvers: the province is the admin's verified claim; the rules live in
:mod:`tenants.credentials.service`.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.errors import PilotGraphError, UserError
from schema.fields import field, mutation
from schema.permissions import Permission, requires
from tenants.credentials import service
from tenants.credentials.service import Credential
from tenants.errors import TenantsError

MANAGE = Permission.MANAGE_SERVICE_CREDENTIALS


@strawberry.type(description="An API key for OFREP machine clients; its secret is never shown.")
class ServiceCredential:
    id: str = strawberry.field(description="The public id: the key reads `pgk_<id>_<secret>`.")
    name: str
    tenant: str | None = strawberry.field(description="The one tenant it covers; null: province.")
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None = strawberry.field(
        description="Last accepted use, to the minute (written at most once a minute)."
    )

    @classmethod
    def from_domain(cls, row: Credential) -> ServiceCredential:
        return cls(
            id=row.id,
            name=row.name,
            tenant=row.tenant_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )


@strawberry.type
class CreateServiceCredentialPayload:
    credential: ServiceCredential | None = None
    key: str | None = strawberry.field(
        default=None, description="The whole key, shown this once: store it now."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeServiceCredentialPayload:
    credential: ServiceCredential | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _province(ctx: Context) -> str:
    province = ctx.principal_or_raise().province
    if province is None:  # a province role always carries one (gateway.claims); fail closed
        raise PilotGraphError("PROVINCE_REQUIRED", "Your token names no province.")
    return province


@strawberry.type
class CredentialsQuery:
    @field(
        extensions=requires(MANAGE, needs_tenant=False),
        description="The province's service credentials, newest first, without their secrets.",
    )
    async def service_credentials(self, info: Info[Context, None]) -> list[ServiceCredential]:
        ctx = info.context
        rows = await ctx.run_province(service.list_for, province_id=_province(ctx))
        return [ServiceCredential.from_domain(row) for row in rows]


@strawberry.type
class CredentialsMutation:
    @mutation(
        extensions=requires(MANAGE, needs_tenant=False),
        description="Create an API key for OFREP, for the province or one of its tenants.",
    )
    async def create_service_credential(
        self,
        info: Info[Context, None],
        name: str,
        tenant: str | None = None,
        expires_at: dt.datetime | None = None,
    ) -> CreateServiceCredentialPayload:
        ctx = info.context
        try:
            row, key = await ctx.run_province(
                service.create,
                province_id=_province(ctx),
                tenant_id=tenant,
                name=name,
                expires_at=expires_at,
                now=ctx.now,
            )
        except TenantsError as exc:
            await ctx.rollback()
            return CreateServiceCredentialPayload(errors=[UserError.from_domain(exc)])
        await ctx.commit()
        return CreateServiceCredentialPayload(
            credential=ServiceCredential.from_domain(row), key=key
        )

    @mutation(
        extensions=requires(MANAGE, needs_tenant=False),
        description=(
            "Revoke an API key: the replica that revokes it refuses it at once, every other "
            "replica within 30 seconds."
        ),
    )
    async def revoke_service_credential(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> RevokeServiceCredentialPayload:
        ctx = info.context
        try:
            row = await ctx.run_province(
                service.revoke_or_raise,
                province_id=_province(ctx),
                credential_id=str(id),
                now=ctx.now,
            )
        except TenantsError as exc:
            await ctx.rollback()
            return RevokeServiceCredentialPayload(errors=[UserError.from_domain(exc)])
        await ctx.commit()
        ctx.forget_service_key(row.id)
        return RevokeServiceCredentialPayload(credential=ServiceCredential.from_domain(row))
