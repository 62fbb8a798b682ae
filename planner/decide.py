"""Whether the planned statement may answer a request, decided in Python before any query.

The planned path only ever answers success: it runs when the principal is signed in on a
tenant, every root field's permission is granted and its flag (with its parents) is on for the
caller. A denial or a flag off is left to the schema, which answers it with its error. A flag
configuration with rules on the member's branch would need the database to evaluate, so it is
left to the schema too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from planner.mapping import ROOTS
from planner.operation import Selected
from schema.errors import PilotGraphError
from schema.rollout.features import FlagAsker, check_enabled, evaluation_context, snapshot_for
from tenants.handbook.access import Actor
from tenants.permissions import refusal


@dataclass(frozen=True, slots=True)
class Caller:
    """What the statement needs of the caller: tenant, member (if one) and reach."""

    tenant: str
    member: uuid.UUID | None
    whole_tenant: bool


def admitted(context: FlagAsker, roots: tuple[Selected, ...]) -> Caller | None:
    """The caller when every root field would succeed for them, else None (the schema answers)."""
    principal, tenant = context.principal, context.tenant
    if principal is None or tenant is None:
        return None
    if any(refusal(principal.roles, ROOTS[root.name].permission) for root in roots):
        return None
    who = evaluation_context(context)
    if snapshot_for(context, who.tenant).uses_branch:
        return None
    try:
        for root in roots:
            check_enabled(context, ROOTS[root.name].flag, who)
    except PilotGraphError:
        return None
    member = _as_uuid(principal.subject) if principal.tenant == tenant.id else None
    whole = Actor(subject=principal.subject, roles=principal.roles).sees_whole_tenant
    return Caller(tenant.id, member, whole)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
