"""Notices to a province's admins (e.g. "the guardrail paused a plan"): write, list, acknowledge.

A notice belongs to the province of the tenants it is about; an admin of another province
neither sees nor acknowledges it. Acknowledging is audited; the first acknowledgment stands.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import audit
from rollout.errors import NoticeNotFound
from rollout.models import NoticeKind, RolloutNotice, RolloutPlan


async def add(
    *,
    session: AsyncSession,
    plan: RolloutPlan,
    tenant_ids: Sequence[str],
    kind: NoticeKind,
    message: str,
    figures: dict[str, Any],
    now: dt.datetime,
    wave: int | None = None,
) -> RolloutNotice:
    """Add a notice about ``tenant_ids`` of ``plan`` (its province's) to the transaction."""
    notice = RolloutNotice(
        id=uuid.uuid4(),
        province_id=plan.province_id,
        plan_id=plan.id,
        flag_key=plan.flag_key,
        kind=kind.value,
        wave=wave,
        message=message,
        figures=figures,
        created_at=now,
    )
    session.add(notice)
    return notice


async def query(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str | None = None,
    unacknowledged_only: bool = False,
    limit: int = 100,
) -> Sequence[RolloutNotice]:
    """Notices of ``province_id`` matching the filters, newest first."""
    stmt = select(RolloutNotice).where(RolloutNotice.province_id == province_id)
    if flag_key is not None:
        stmt = stmt.where(RolloutNotice.flag_key == flag_key)
    if unacknowledged_only:
        stmt = stmt.where(RolloutNotice.acknowledged_at.is_(None))
    stmt = stmt.order_by(RolloutNotice.created_at.desc(), RolloutNotice.id).limit(limit)
    return (await session.scalars(stmt)).all()


async def acknowledge(
    *,
    session: AsyncSession,
    notice_id: uuid.UUID,
    province_id: str,
    actor: str,
    now: dt.datetime,
) -> RolloutNotice:
    """Mark a notice of ``province_id`` read by ``actor``, or NoticeNotFound."""
    notice = await session.get(
        RolloutNotice, notice_id, with_for_update=True, populate_existing=True
    )
    if notice is None or notice.province_id != province_id:
        raise NoticeNotFound()
    if notice.acknowledged_at is None:
        notice.acknowledged_at, notice.acknowledged_by = now, actor
        notice.acknowledged_by_name = audit.acting_name(session)
        audit.record(
            session,
            actor=actor,
            action="notice.acknowledge",
            at=now,
            before=None,
            after={"notice_id": str(notice.id), "kind": notice.kind, "wave": notice.wave},
            flag_key=notice.flag_key,
            plan_id=notice.plan_id,
            province_id=province_id,
        )
    return notice
