"""The append-only audit of every rollout change: who, when, what (before and after), why."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout.models import AuditEntry, RolloutWaveTenant
from rollout.webhooks import outbox

_last = 0
# The session's ``info`` key holding the acting person's display name (see :func:`act_as`).
ACTOR_NAME = "pilotgraph.audit.actor_name"


# Every action an audit row may record. ``record`` refuses any other, so a new action is added
# here, where the console's words for it are checked (tests/console/test_words.py).
ACTIONS = frozenset(
    {
        *(f"plan.{step}" for step in ("create", "start", "advance", "approve", "pause")),
        *(f"plan.{step}" for step in ("resume", "rollback", "guardrail")),
        *(f"approval.{end}" for end in ("request", "withdraw", "reject", "invalidate")),
        *(f"schedule.{step}" for step in ("create", "cancel", "run")),
        "tenant.ramp",
        *(f"flag.{change}" for change in ("create", "update", "override", "rules")),
        "notice.acknowledge",
        *(f"webhook.{change}" for change in ("create", "rotate", "remove")),
    }
)


def next_id() -> uuid.UUID:
    """A UUID whose high bits are the time in ns, strictly increasing within the process."""
    global _last
    _last = max(time.time_ns(), _last + 1)
    return uuid.UUID(int=(_last << 64) | secrets.randbits(64))


def act_as(session: AsyncSession, name: str | None) -> None:
    """Name the person acting through ``session``: each audit row it records keeps the name.

    Set once where the request's session is opened, from the verified token, so every use
    case records who acted by name without each signature carrying it.
    """
    session.info[ACTOR_NAME] = name


def acting_name(session: AsyncSession) -> str | None:
    """The display name :func:`act_as` gave ``session``; rows naming their author keep it too."""
    return session.info.get(ACTOR_NAME)


def actor_key(actor: str, name: str | None) -> str:
    """Subject and name, case-folded: what a partial actor match compares against."""
    return f"{actor}\n{name or ''}".casefold()


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
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is no audit action (rollout.audit.ACTIONS)")
    name = acting_name(session)
    entry = AuditEntry(
        id=next_id(),
        province_id=province_id,
        at=at,
        actor=actor,
        actor_name=name,
        actor_key=actor_key(actor, name),
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


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit rows to read; every given field must hold."""

    flag_key: str | None = None
    # rows of that tenant, and the plan steps of waves up to that tenant's (they changed it)
    tenant_id: str | None = None
    actor: str | None = None  # part of the subject or the name, any case
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends: the last row's time and id (the order is time, then id, newest first)."""

    at: dt.datetime
    id: uuid.UUID


def _touches(tenant_id: str) -> ColumnElement[bool]:
    """A plan-level row (no tenant) whose step reached the wave of ``tenant_id``.

    A step moves the plan between two positions; every wave up to the higher one may have
    changed (a pause or rollback stops the waves already on), so the tenant's wave counts when
    it is not after the higher of the row's before and after waves.
    """
    before = func.coalesce(AuditEntry.before["wave"].as_integer(), -1)
    after = func.coalesce(AuditEntry.after["wave"].as_integer(), -1)
    reached = case((before > after, before), else_=after)
    wave_of_tenant = exists().where(
        RolloutWaveTenant.plan_id == AuditEntry.plan_id,
        RolloutWaveTenant.tenant_id == tenant_id,
        RolloutWaveTenant.position <= reached,
    )
    return and_(AuditEntry.tenant_id.is_(None), AuditEntry.plan_id.is_not(None), wave_of_tenant)


def _conditions(where: AuditFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.flag_key is not None:
        found.append(AuditEntry.flag_key == where.flag_key)
    if where.tenant_id is not None:
        found.append(or_(AuditEntry.tenant_id == where.tenant_id, _touches(where.tenant_id)))
    if where.actor is not None:
        found.append(AuditEntry.actor_key.contains(where.actor.casefold(), autoescape=True))
    if where.action is not None:
        found.append(AuditEntry.action == where.action)
    if where.since is not None:
        found.append(AuditEntry.at >= where.since)
    if where.until is not None:
        found.append(AuditEntry.at < where.until)
    return found


def _after(position: Position) -> ColumnElement[bool]:
    return or_(
        AuditEntry.at < position.at,
        and_(AuditEntry.at == position.at, AuditEntry.id < position.id),
    )


async def page(
    *,
    session: AsyncSession,
    province_ids: Sequence[str],
    where: AuditFilter,
    after: Position | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Audit rows of ``province_ids`` matching ``where``, newest first (time, then id), from
    just after ``after``: pages read one after another list each row once."""
    conditions = [AuditEntry.province_id.in_(province_ids), *_conditions(where)]
    if after is not None:
        conditions.append(_after(after))
    stmt = (
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def query(
    *,
    session: AsyncSession,
    province_ids: Sequence[str],
    flag_key: str | None = None,
    tenant_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """The first page of :func:`page` for the given filters (the CLI's and services' reads)."""
    where = AuditFilter(flag_key=flag_key, tenant_id=tenant_id, actor=actor, action=action)
    return await page(session=session, province_ids=province_ids, where=where, limit=limit)
