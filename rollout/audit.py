"""The append-only audit of every rollout change: who, when, what (before and after), why."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout.models import AuditEntry
from rollout.webhooks import outbox

_last = 0


def next_id() -> uuid.UUID:
    """A UUID whose high bits are the time in ns, strictly increasing within the process."""
    global _last
    _last = max(time.time_ns(), _last + 1)
    return uuid.UUID(int=(_last << 64) | secrets.randbits(64))


def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    at: dt.datetime,
    province_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str = "",
    flag_key: str | None = None,
    plan_id: uuid.UUID | None = None,
    tenant_id: str | None = None,
) -> AuditEntry:
    """Add one audit row to the session's transaction (committed with the change it records),
    and the webhook event it reports, if any (``rollout.webhooks.outbox``)."""
    entry = AuditEntry(
        id=next_id(),
        province_id=province_id,
        at=at,
        actor=actor,
        action=action,
        flag_key=flag_key,
        plan_id=plan_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(entry)
    outbox.enqueue(session, entry)
    return entry


async def query(
    *,
    session: AsyncSession,
    province_ids: Sequence[str],
    flag_key: str | None = None,
    tenant_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Audit rows of ``province_ids`` matching every given filter, newest first."""
    stmt = select(AuditEntry)
    filters: list[Any] = [AuditEntry.province_id.in_(province_ids)]
    if flag_key is not None:
        filters.append(AuditEntry.flag_key == flag_key)
    if tenant_id is not None:
        filters.append(AuditEntry.tenant_id == tenant_id)
    if actor is not None:
        filters.append(AuditEntry.actor == actor)
    if action is not None:
        filters.append(AuditEntry.action == action)
    if since is not None:
        filters.append(AuditEntry.at >= since)
    if until is not None:
        filters.append(AuditEntry.at < until)
    stmt = stmt.where(*filters).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return (await session.scalars(stmt)).all()
