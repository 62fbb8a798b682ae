"""Rollout mutations that end what waits without running it: withdraw or reject a pending
approval, cancel a scheduled step. Each is audited with its reason and version-checked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import strawberry
from strawberry.types import Info

from rollout import approvals, schedule
from rollout.errors import ApprovalNotFound, RolloutError, StepNotFound
from schema.context import Context
from schema.errors import UserError
from schema.fields import mutation
from schema.relay import canonical_uuid
from schema.rollout.mutations import ADMIN, ExpectedVersion, attempt


class _Ended(Protocol):
    @property
    def id(self) -> Any: ...

    @property
    def status(self) -> str: ...


@strawberry.type
class RolloutDecisionPayload:
    id: strawberry.ID | None = None
    status: str | None = strawberry.field(
        default=None, description="withdrawn, rejected or cancelled."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _decide(
    ctx: Context,
    fn: Callable[..., Awaitable[_Ended]],
    raw_id: strawberry.ID,
    missing: RolloutError,
    id_name: str,
    **kwargs: Any,
) -> RolloutDecisionPayload:
    """Parse the id (a malformed one answers as a missing one), then :func:`attempt` ``fn``."""
    parsed = canonical_uuid(str(raw_id))
    if parsed is None:
        return RolloutDecisionPayload(errors=[UserError.from_domain(missing)])
    row, errors = await attempt(ctx, fn, **{id_name: parsed}, **kwargs)
    if row is None:
        return RolloutDecisionPayload(errors=errors)
    return RolloutDecisionPayload(id=strawberry.ID(str(row.id)), status=row.status)


@strawberry.type
class RolloutDecisionMutation:
    @mutation(
        extensions=ADMIN,
        description="The requester takes back their pending step, with a reason (audited).",
    )
    async def withdraw_rollout_approval(
        self,
        info: Info[Context, None],
        approval_id: strawberry.ID,
        reason: str,
        expected_version: ExpectedVersion = None,
    ) -> RolloutDecisionPayload:
        return await _decide(
            info.context,
            approvals.withdraw,
            approval_id,
            ApprovalNotFound(),
            "approval_id",
            reason=reason,
            expected_version=expected_version,
        )

    @mutation(
        extensions=ADMIN,
        description="A second province admin refuses a pending step, with a reason (audited).",
    )
    async def reject_rollout_approval(
        self,
        info: Info[Context, None],
        approval_id: strawberry.ID,
        reason: str,
        expected_version: ExpectedVersion = None,
    ) -> RolloutDecisionPayload:
        return await _decide(
            info.context,
            approvals.reject,
            approval_id,
            ApprovalNotFound(),
            "approval_id",
            reason=reason,
            expected_version=expected_version,
        )

    @mutation(
        extensions=ADMIN,
        description="Cancel a scheduled step before it runs, with a reason (audited).",
    )
    async def cancel_scheduled_rollout_step(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        reason: str,
        expected_version: ExpectedVersion = None,
    ) -> RolloutDecisionPayload:
        return await _decide(
            info.context,
            schedule.cancel,
            id,
            StepNotFound(),
            "step_id",
            reason=reason,
            expected_version=expected_version,
        )
