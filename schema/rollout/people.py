"""Who acted, by name: an audit row's actor in the member directory, when the viewer may read it."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Context
from schema.relay import canonical_uuid
from tenants.handbook.erasure import ERASED
from tenants.permissions import Permission, refusal


async def member_name(context: Context, tenant_slug: str, subject: str) -> str | None:
    """The full name of member ``subject`` of ``tenant_slug``, or None.

    None unless the subject is a member id of that tenant, the viewer covers the tenant and their
    role reads member details: a name is never shown to someone who could not read it otherwise.
    Batched per tenant by the request's ``member_by_id`` loader.
    """
    member_id = canonical_uuid(subject)
    principal = context.principal
    tenant = context.registry.get(tenant_slug)
    if member_id is None or principal is None or tenant is None or not principal.covers(tenant):
        return None
    if refusal(principal.roles, Permission.READ_MEMBER_DETAILS) is not None:
        return None
    row = await context.loaders_for(tenant.id).member_by_id.load(member_id)
    return None if row is None or row.full_name == ERASED else row.full_name


def author_name(who: str) -> Any:
    """The field beside a subject naming the person who wrote the row, as they were named then."""
    return strawberry.field(
        description=f"{who}'s display name then (the token's name claim); null when the token "
        "carried none (show the subject then)."
    )
