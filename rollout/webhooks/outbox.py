"""The outbox: an event row added to the very transaction of the audited change it reports.

Every rollout change writes an audit row (``rollout.audit.record``), which calls :func:`enqueue`;
the changes webhooks report add a :class:`WebhookEvent` beside it. Both commit together or not at
all, so an acknowledged change always has its event and a rolled-back one never has, whatever
happens to the process afterwards; the dispatcher (``delivery.py``) posts it later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rollout.models import AuditEntry, FlagState
from rollout.webhooks.models import EventType, WebhookEvent

STEPS = frozenset(
    {"plan.start", "plan.advance", "plan.approve", "plan.pause", "plan.resume", "plan.rollback"}
)


def event_type(entry: AuditEntry) -> EventType | None:
    """What ``entry`` is for webhooks, or None when they do not report it."""
    after, before = entry.after or {}, entry.before or {}
    if entry.action == "plan.pause" and "paused_wave" in after:
        return EventType.GUARDRAIL_PAUSED
    if entry.action in STEPS:
        return EventType.ROLLOUT_STEP
    if entry.action == "approval.request":
        return EventType.APPROVAL_REQUESTED
    killed = FlagState.KILLED.value
    if entry.action == "flag.update" and after.get("state") == killed != before.get("state"):
        return EventType.FLAG_KILLED
    return None


def payload(entry: AuditEntry, kind: EventType) -> dict[str, Any]:
    """The JSON body every endpoint receives for ``entry`` (the same on every attempt)."""
    return {
        "id": str(entry.id),
        "type": kind.value,
        "province": entry.province_id,
        "flag": entry.flag_key,
        "action": entry.action,
        "actor": entry.actor,
        "reason": entry.reason,
        "occurredAt": entry.at.isoformat(),
        "before": entry.before,
        "after": entry.after,
    }


def enqueue(session: AsyncSession, entry: AuditEntry) -> WebhookEvent | None:
    """Add the event ``entry`` reports to its transaction; the event's id is the audit row's."""
    kind = event_type(entry)
    if kind is None:
        return None
    event = WebhookEvent(
        id=entry.id,
        province_id=entry.province_id,
        type=kind.value,
        flag_key=entry.flag_key,
        payload=payload(entry, kind),
        created_at=entry.at,
        fanned_out_at=None,
    )
    session.add(event)
    return event
