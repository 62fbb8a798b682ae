"""The adoption access policy (:mod:`adoption.access`) for GraphQL fields: a refusal is a field
error with the policy's code and message."""

from __future__ import annotations

from strawberry.types import Info

from adoption import access
from adoption.read_model import Target
from schema.context import Context
from schema.errors import from_refusal
from schema.tenants.access import check_slugs
from tenants.permissions import Refused


def target_or_raise(info: Info[Context, None], slug: str | None) -> Target:
    """The tenant ``slug`` names or, with no slug, the caller's province, if they may read it."""
    context = info.context
    target = access.target_for(
        principal=context.principal,
        registry=context.registry,
        request_tenant=context.tenant,
        slug=slug,
    )
    if isinstance(target, Refused):
        raise from_refusal(target)
    return target


def tenants_target_or_raise(info: Info[Context, None], slugs: list[str]) -> Target:
    """Each tenant ``slugs`` names (at most 100, each once), if the caller may read them all."""
    context = info.context
    target = access.tenants_target_for(
        principal=context.principal, registry=context.registry, slugs=check_slugs(slugs)
    )
    if isinstance(target, Refused):
        raise from_refusal(target)
    return target


def province_or_raise(info: Info[Context, None]) -> str:
    """The province a province-wide adoption read covers."""
    context = info.context
    province = access.province_for(
        principal=context.principal_or_raise(),
        registry=context.registry,
        request_tenant=context.tenant,
    )
    if isinstance(province, Refused):
        raise from_refusal(province)
    return province
