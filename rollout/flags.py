"""Flag writes: create from the catalogue, edit with optimistic concurrency, overrides, rules.

Every write bumps the flag's version (the snapshot's ETag follows it) and adds an audit row in
the same transaction; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import audit
from rollout.errors import FlagNotFound, UnknownTenant, UnknownVariant, VersionConflict
from rollout.flag_catalogue import BOOLEAN_VARIANTS, FIRST_VERSION, ON, FlagDefinition, definition
from rollout.models import Flag, FlagOverride, FlagRule, FlagState
from tenants.read_model import province_tenants_among

# Targeting rules in order: (attribute → accepted values, variant).
Rules = Sequence[tuple[Mapping[str, Sequence[str]], str]]


def flag_state(flag: Flag) -> dict[str, Any]:
    """The audited view of a flag row."""
    return {
        "description": flag.description,
        "default_variant": flag.default_variant,
        "state": flag.state,
        "version": flag.version,
    }


async def get(*, session: AsyncSession, province_id: str, key: str) -> Flag | None:
    """The province's flag row, or None when the flag has no configuration there yet."""
    return await session.get(Flag, (province_id, key))


async def get_or_raise(*, session: AsyncSession, province_id: str, key: str) -> Flag:
    """The province's flag row, or FlagNotFound when it has no configuration there."""
    flag = await session.get(Flag, (province_id, key))
    if flag is None:
        raise FlagNotFound(key)
    return flag


async def ensure(
    *,
    session: AsyncSession,
    province_id: str,
    key: str,
    actor: str,
    now: dt.datetime,
    default_variant: str | None = None,
) -> Flag:
    """The province's flag row; created from the catalogue if it has none, serving what it served
    unconfigured.

    ``default_variant`` chooses another default for a new row (a rollout plan starts from off).
    The row starts at :data:`FIRST_VERSION`, the version the unconfigured flag reported.
    """
    flag = await session.get(Flag, (province_id, key))
    if flag is not None:
        return flag
    entry = definition(key)
    if entry is None:
        raise FlagNotFound(key)
    flag = _new_flag(province_id, entry, default_variant or entry.unconfigured_variant, now)
    session.add(flag)
    audit.record(
        session,
        actor=actor,
        action="flag.create",
        at=now,
        before=None,
        after=flag_state(flag),
        flag_key=key,
        province_id=province_id,
    )
    await session.flush()
    return flag


def _new_flag(
    province_id: str, entry: FlagDefinition, default_variant: str, now: dt.datetime
) -> Flag:
    return Flag(
        province_id=province_id,
        key=entry.key.value,
        description=entry.description,
        kind=entry.kind.value,
        variants=dict(BOOLEAN_VARIANTS),
        default_variant=default_variant,
        rollout_variant=ON,
        state=FlagState.ACTIVE.value,
        version=FIRST_VERSION,
        updated_at=now,
    )


async def check_tenants(
    *, session: AsyncSession, province_id: str, tenant_ids: Sequence[str]
) -> None:
    """Refuse tenants that are not the province's exactly as tenants that do not exist."""
    named = set(tenant_ids)
    known = await province_tenants_among(session=session, province_id=province_id, tenant_ids=named)
    if unknown := sorted(named - known):
        raise UnknownTenant(f"Unknown tenants: {', '.join(unknown)}.")


def bump(flag: Flag, now: dt.datetime) -> None:
    """Mark the flag's configuration changed: a new version, so a new snapshot ETag."""
    flag.version += 1
    flag.updated_at = now


def check_version(flag: Flag, expected: int | None) -> None:
    if expected is not None and expected != flag.version:
        raise VersionConflict(f"The flag {flag.key!r}", expected, flag.version)


def _check_variant(flag: Flag, variant: str) -> None:
    if variant not in flag.variants:
        names = ", ".join(sorted(flag.variants))
        raise UnknownVariant(f"The flag {flag.key!r} has no variant {variant!r} (it has {names}).")


async def update(
    *,
    session: AsyncSession,
    province_id: str,
    key: str,
    expected_version: int,
    actor: str,
    reason: str,
    now: dt.datetime,
    description: str | None = None,
    default_variant: str | None = None,
    state: FlagState | None = None,
) -> Flag:
    """Edit a flag; refused with VERSION_CONFLICT when ``expected_version`` is stale."""
    flag = await ensure(session=session, province_id=province_id, key=key, actor=actor, now=now)
    check_version(flag, expected_version)
    before = flag_state(flag)
    if description is not None:
        flag.description = description
    if default_variant is not None:
        _check_variant(flag, default_variant)
        flag.default_variant = default_variant
    if state is not None:
        flag.state = state.value
    bump(flag, now)
    audit.record(
        session,
        actor=actor,
        action="flag.update",
        at=now,
        before=before,
        after=flag_state(flag),
        reason=reason,
        flag_key=key,
        province_id=province_id,
    )
    return flag


async def set_override(
    *,
    session: AsyncSession,
    province_id: str,
    key: str,
    tenant_id: str,
    variant: str | None,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> Flag:
    """Force a tenant of the province to ``variant``, or clear its override with None."""
    await check_tenants(session=session, province_id=province_id, tenant_ids=[tenant_id])
    flag = await ensure(session=session, province_id=province_id, key=key, actor=actor, now=now)
    row = await session.get(FlagOverride, (province_id, tenant_id, key))
    before = None if row is None else {"variant": row.variant}
    if variant is None:
        if row is not None:
            await session.delete(row)
    else:
        _check_variant(flag, variant)
        if row is None:
            row = FlagOverride(province_id=province_id, tenant_id=tenant_id, flag_key=key)
            session.add(row)
        row.variant, row.reason, row.updated_by, row.updated_at = variant, reason, actor, now
        row.updated_by_name = audit.acting_name(session)
    bump(flag, now)
    audit.record(
        session,
        actor=actor,
        action="flag.override",
        at=now,
        before=before,
        after=None if variant is None else {"variant": variant},
        reason=reason,
        flag_key=key,
        tenant_id=tenant_id,
        province_id=province_id,
    )
    return flag


async def set_rules(
    *,
    session: AsyncSession,
    province_id: str,
    key: str,
    rules: Rules,
    expected_version: int,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> Flag:
    """Replace the flag's targeting rules: (attribute → accepted values, variant), in order."""
    flag = await ensure(session=session, province_id=province_id, key=key, actor=actor, now=now)
    check_version(flag, expected_version)
    before = await _delete_rules(session, flag)
    after = _add_rules(session, flag, rules)
    bump(flag, now)
    audit.record(
        session,
        actor=actor,
        action="flag.rules",
        at=now,
        before={"rules": before},
        after={"rules": after},
        reason=reason,
        flag_key=key,
        province_id=province_id,
    )
    return flag


async def _delete_rules(session: AsyncSession, flag: Flag) -> list[dict[str, Any]]:
    """Delete the flag's rules, answering them as they were (for the audit)."""
    mine = (FlagRule.province_id == flag.province_id, FlagRule.flag_key == flag.key)
    old = (await session.scalars(select(FlagRule).where(*mine))).all()
    await session.execute(delete(FlagRule).where(*mine))
    return [{"conditions": r.conditions, "variant": r.variant} for r in old]


def _add_rules(session: AsyncSession, flag: Flag, rules: Rules) -> list[dict[str, Any]]:
    """Add ``rules`` in order, each naming one of the flag's variants; answer them as stored."""
    after: list[dict[str, Any]] = []
    for position, (conditions, variant) in enumerate(rules):
        _check_variant(flag, variant)
        plain = {attr: sorted(values) for attr, values in conditions.items()}
        session.add(
            FlagRule(
                province_id=flag.province_id,
                flag_key=flag.key,
                position=position,
                conditions=plain,
                variant=variant,
            )
        )
        after.append({"conditions": plain, "variant": variant})
    return after
