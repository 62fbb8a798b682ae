"""How late the rollout scheduler is: the age of the oldest step past due and not yet run.

A lag measured when a step runs says nothing while the scheduler is stuck, which is when an
alert matters; the age of the oldest overdue step grows in exactly that case. Every worker asks
(one indexed ``min`` on status and due time) and the pod reports the largest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from rollout.models import ScheduledStep, StepStatus


async def overdue_seconds(connection: AsyncConnection, now: dt.datetime) -> float:
    """Seconds since the oldest pending step fell due, 0 when none is due."""
    oldest = (
        select(func.min(ScheduledStep.run_at))
        .where(ScheduledStep.status == StepStatus.PENDING.value)
        .where(ScheduledStep.run_at <= now)
    )
    due = await connection.scalar(oldest)
    if due is None:
        return 0.0
    return max((now - due).total_seconds(), 0.0)
