"""Pending approvals that end without being carried out: invalidated when the plan moves away from
where they were asked, withdrawn by their requester, rejected by a second admin.

Each end is audited with its reason; the approval row keeps its final status. An approval that is
no longer pending answers as one that does not exist (``APPROVAL_NOT_FOUND``), like another
province's.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import audit, plans
from rollout.errors import ApprovalNotFound, InvalidPlan, NotRequester, SelfApproval
from rollout.models import ApprovalStatus, RolloutApproval
from rollout.plans import PlanView

MOVED = "The plan moved from wave {wave}, step {step} where this step was asked."


async def invalidate_moved(
    *, session: AsyncSession, view: PlanView, actor: str, now: dt.datetime
) -> list[RolloutApproval]:
    """End every pending approval of the plan asked from another position than the plan's now."""
    rows = await session.scalars(
        select(RolloutApproval).where(
            RolloutApproval.plan_id == view.plan.id,
            RolloutApproval.status == ApprovalStatus.PENDING.value,
        )
    )
    stale = [a for a in rows if list(view.position) != a.request["from"]]
    for approval in stale:
        wave, step = approval.request["from"]
        reason = MOVED.format(wave=wave, step=step + 1)
        _end(
            session, view, approval, ApprovalStatus.INVALIDATED, actor=actor, reason=reason, now=now
        )
    return stale


async def withdraw(
    *,
    session: AsyncSession,
    province_id: str,
    approval_id: uuid.UUID,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> RolloutApproval:
    """The requester takes back their pending step; nobody else may."""
    approval, view = await _pending(session, province_id, approval_id, expected_version, reason)
    if approval.requested_by != actor:
        raise NotRequester()
    _end(session, view, approval, ApprovalStatus.WITHDRAWN, actor=actor, reason=reason, now=now)
    return approval


async def reject(
    *,
    session: AsyncSession,
    province_id: str,
    approval_id: uuid.UUID,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> RolloutApproval:
    """A second admin refuses a pending step with a reason; the requester withdraws instead."""
    approval, view = await _pending(session, province_id, approval_id, expected_version, reason)
    if approval.requested_by == actor:
        raise SelfApproval()
    _end(session, view, approval, ApprovalStatus.REJECTED, actor=actor, reason=reason, now=now)
    return approval


async def _pending(
    session: AsyncSession,
    province_id: str,
    approval_id: uuid.UUID,
    expected_version: int | None,
    reason: str,
) -> tuple[RolloutApproval, PlanView]:
    """The province's pending approval and its plan (locked, version checked)."""
    if not reason.strip():
        raise InvalidPlan("Give a reason.")
    approval = await session.get(RolloutApproval, approval_id)
    if approval is None or approval.province_id != province_id:
        raise ApprovalNotFound()
    view = await plans.get_by_id_checked(
        session=session, plan_id=approval.plan_id, expected_version=expected_version
    )
    await session.refresh(approval)  # as it is now that the plan is locked
    if approval.status != ApprovalStatus.PENDING.value:
        raise ApprovalNotFound()
    return approval, view


def _end(
    session: AsyncSession,
    view: PlanView,
    approval: RolloutApproval,
    status: ApprovalStatus,
    *,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> None:
    approval.status = status.value
    audit.record(
        session,
        actor=actor,
        action=f"approval.{_VERB[status]}",
        at=now,
        before={"approval_id": str(approval.id), "status": ApprovalStatus.PENDING.value},
        after={
            "approval_id": str(approval.id),
            "status": status.value,
            "requested_by": approval.requested_by,
            "from": approval.request["from"],
            "to": approval.request["to"],
        },
        reason=reason,
        flag_key=view.plan.flag_key,
        plan_id=view.plan.id,
        province_id=view.plan.province_id,
    )


_VERB = {
    ApprovalStatus.INVALIDATED: "invalidate",
    ApprovalStatus.WITHDRAWN: "withdraw",
    ApprovalStatus.REJECTED: "reject",
}
