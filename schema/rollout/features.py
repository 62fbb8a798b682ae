"""``gated(FlagKey.X)``: a field extension that answers FEATURE_DISABLED when the flag is off.

Use it next to the permission: ``extensions=requires(Permission.X) + gated(FlagKey.X)``; the
permission runs first (``schema.fields`` orders them), so the gate sees the verified principal
and tenant, and an anonymous caller learns nothing of the rollout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

from strawberry.extensions.field_extension import FieldExtension
from strawberry.types import Info

from rollout.evaluation import ATTRIBUTE_TIMEOUT_S, BRANCH, EvaluationContext, Snapshot, evaluate
from rollout.flag_catalogue import FlagKey, lineage
from rollout.snapshot import FlagStore
from schema.context import Context
from schema.errors import PilotGraphError
from tenants.identity import Principal
from tenants.registry import TenantInfo, TenantRegistry

logger = logging.getLogger("pilotgraph.rollout")
# Keys of the request's decisions (``Context.decisions``).
WHO = "rollout.evaluation-context"
GATE = "rollout.gate"


class FlagAsker(Protocol):
    """What deciding a flag for a caller reads: the request's :class:`Context`, or the planned
    lane's verified caller (no session: those decisions never need the database)."""

    @property
    def principal(self) -> Principal | None: ...

    @property
    def tenant(self) -> TenantInfo | None: ...

    @property
    def registry(self) -> TenantRegistry: ...

    @property
    def flags(self) -> FlagStore: ...


def evaluation_context(context: FlagAsker) -> EvaluationContext:
    """Who the request is, as flags see it: tenant, member (the subject) and roles."""
    principal = context.principal
    return EvaluationContext(
        tenant=context.tenant.id if context.tenant is not None else None,
        member=principal.subject if principal is not None else None,
        roles=frozenset(str(r) for r in principal.roles) if principal is not None else frozenset(),
    )


def province_of(context: FlagAsker, tenant_id: str | None) -> str | None:
    """The province of ``tenant_id``, whose flag configuration its members are served."""
    tenant = context.registry.get(tenant_id) if tenant_id is not None else None
    return None if tenant is None else str(tenant.province_id)


def snapshot_for(context: FlagAsker, tenant_id: str | None) -> Snapshot:
    """The flag configuration of ``tenant_id``'s province (the registry's defaults for none)."""
    snapshot: Snapshot = context.flags.snapshot_for(province_of(context, tenant_id))
    return snapshot


def _needs_branch(context: Context, who: EvaluationContext) -> bool:
    if context.principal is None or who.tenant is None:
        return False
    return snapshot_for(context, who.tenant).uses_branch


async def full_evaluation_context(context: Context) -> EvaluationContext:
    """As :func:`evaluation_context`, plus the member's branch when some rule matches on it.

    A field gate uses it: the gated field needs the database anyway, so a branch that cannot be
    read fails the field as the database would (``SERVICE_UNAVAILABLE``).
    """
    who = evaluation_context(context)
    if not _needs_branch(context, who):
        return who
    actor = await context.actor()
    return replace(who, branch=str(actor.branch_id) if actor.branch_id else None)


async def features_context(context: Context) -> EvaluationContext:
    """As :func:`full_evaluation_context`, but never failing because of the database.

    ``features`` reads nothing else from it: when the branch cannot be read within
    :data:`ATTRIBUTE_TIMEOUT_S`, the context marks it unavailable and the flags evaluate with
    the fallback (rules on branch do not match; the result says STALE). The read itself goes on
    until the request's context closes, which settles it.
    """
    who = evaluation_context(context)
    if not _needs_branch(context, who):
        return who
    read = asyncio.ensure_future(context.actor())
    read.add_done_callback(_settled)
    try:
        actor = await asyncio.wait_for(asyncio.shield(read), ATTRIBUTE_TIMEOUT_S)
    except Exception as exc:  # the database is down, refusing or too slow: the fallback applies
        logger.warning("the member's branch could not be read, evaluating without it: %r", exc)
        return replace(who, unavailable=frozenset({BRANCH}))
    return replace(who, branch=str(actor.branch_id) if actor.branch_id else None)


def _settled(read: asyncio.Future[Any]) -> None:
    if not read.cancelled():
        read.exception()  # retrieved here: nobody awaits a read that ran past its time


def check_enabled(context: FlagAsker, key: FlagKey, who: EvaluationContext | None = None) -> None:
    """Raise FEATURE_DISABLED unless the flag and every parent flag are on for the request."""
    off = first_disabled(context, key, who or evaluation_context(context))
    if off is not None:
        raise _disabled(off)


def first_disabled(context: FlagAsker, key: FlagKey, who: EvaluationContext) -> FlagKey | None:
    """The first flag of ``key``'s lineage (parents first) that is off for ``who``, if any."""
    snapshot = snapshot_for(context, who.tenant)
    for flag in lineage(key):
        if not evaluate(snapshot, flag.value, who).enabled:
            return flag
    return None


def _disabled(flag: FlagKey) -> PilotGraphError:
    return PilotGraphError(
        "FEATURE_DISABLED", f"The feature {flag.value!r} is not enabled for you yet."
    )


async def _gate_decision(context: Context, key: FlagKey) -> FlagKey | None:
    """:func:`first_disabled` for the request's caller, decided once per request and flag.

    Every gated field of an operation asks the same question of the same caller: the first
    asks the flags (and reads the branch, when a rule needs it), the others reuse the answer.
    A failed read is not kept, so each field fails as the database makes it fail.
    """
    decisions = context.decisions
    if (GATE, key) in decisions:
        decided: FlagKey | None = decisions[GATE, key]
        return decided
    who: EvaluationContext | None = decisions.get(WHO)
    if who is None:
        who = decisions[WHO] = await full_evaluation_context(context)
    decided = decisions[GATE, key] = first_disabled(context, key, who)
    return decided


class FeatureGate(FieldExtension):
    def __init__(self, key: FlagKey) -> None:
        self.key = key

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        check_enabled(info.context, self.key)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Any, Any],
        **kwargs: Any,
    ) -> Any:
        off = await _gate_decision(info.context, self.key)
        if off is not None:
            raise _disabled(off)
        return await next_(source, info, **kwargs)


def gated(key: FlagKey) -> list[FieldExtension]:
    """The extension that gates a field by ``key`` (and its parents)."""
    return [FeatureGate(key)]
