"""Import a province's configuration file through the same audited services the API uses.

All or nothing: every change is made in the caller's one transaction, which it commits only when
the whole file applied (a refusal midway leaves the transaction to be rolled back), or rolls back
on a dry run. Idempotent: a part equal to the database's calls no service, so importing the same
file twice writes nothing the second time (no version bump, no audit row). Flags the file does
not name are left as they are; a named flag's rules and overrides are exactly the file's.
A plan is created when the file has one and the database not; its waves cannot be changed or
removed by an import afterwards (refused), only its guardrail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rollout import flags, plans
from rollout.config import export as exporting
from rollout.config.document import Document, FlagConfig, Path, parse, where
from rollout.config.export import export
from rollout.errors import ForeignTenant, InvalidConfig, UnknownFlag
from rollout.flag_catalogue import BOOLEAN_VARIANTS, definition
from rollout.kpi import Criterion
from rollout.models import FlagState
from tenants.read_model import province_tenants_among

ATTRIBUTES = frozenset({"tenant", "role", "branch", "member"})


@dataclass(frozen=True, slots=True)
class Applied:
    changes: list[str]  # the diff, one line per changed field ("+", "-" or "~")


@dataclass(frozen=True, slots=True)
class _Call:
    session: AsyncSession
    province_id: str
    actor: str
    reason: str
    now: dt.datetime
    lines: dict[Path, int]


async def import_config(
    *,
    session: AsyncSession,
    province_id: str,
    text: str,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> Applied:
    """Apply ``text`` to the province in the session's transaction; the diff it made. The caller
    commits (or rolls back for a dry run)."""
    doc, lines = parse(text)
    call = _Call(session, province_id, actor, reason or "configuration import", now, lines)
    await _validate(call, doc)
    before = await export(session=session, province_id=province_id)
    for key, config in sorted(doc.flags.items()):
        await _apply_plan(call, key, config)
        await _apply_flag(call, key, config)
        await _apply_overrides(call, key, config)
    await session.flush()
    after = await export(session=session, province_id=province_id)
    return Applied(diff(before, after))


def _refuse(call: _Call, path: Path, message: str) -> None:
    dotted, at = where(call.lines, path)
    raise InvalidConfig(at + message, field=dotted)


async def _validate(call: _Call, doc: Document) -> None:
    if doc.province != call.province_id:
        _refuse(call, ("province",), f"the file is {doc.province!r}'s, not {call.province_id!r}'s.")
    named: dict[str, Path] = {}
    for key, config in doc.flags.items():
        if definition(key) is None:
            dotted, at = where(call.lines, ("flags", key))
            raise UnknownFlag(at + f"there is no flag {key!r} in the catalogue.", field=dotted)
        _check_variants(call, key, config)
        for tenant in config.overrides:
            named.setdefault(tenant, ("flags", key, "overrides", tenant))
        for i, wave in enumerate(config.plan.waves if config.plan else []):
            _check_wave(call, ("flags", key, "plan", "waves", i), wave.earliest_start)
            for tenant in wave.tenants:
                named.setdefault(tenant, ("flags", key, "plan", "waves", i, "tenants"))
    known = await province_tenants_among(
        session=call.session, province_id=call.province_id, tenant_ids=set(named)
    )
    for tenant in sorted(set(named) - known):
        dotted, at = where(call.lines, named[tenant])
        raise ForeignTenant(
            at + f"{tenant!r} is not a tenant of {call.province_id!r}.", field=dotted
        )


def _check_variants(call: _Call, key: str, config: FlagConfig) -> None:
    base: Path = ("flags", key)
    found = [((*base, "default"), config.default)]
    found += [((*base, "rules", i, "serve"), r.serve) for i, r in enumerate(config.rules)]
    found += [((*base, "overrides", t, "variant"), o.variant) for t, o in config.overrides.items()]
    for path, variant in found:
        if variant not in BOOLEAN_VARIANTS:
            _refuse(call, path, f"{variant!r} is not a variant of {key!r} (on, off).")
    for i, rule in enumerate(config.rules):
        if unknown := sorted(set(rule.when) - ATTRIBUTES):
            _refuse(call, (*base, "rules", i, "when"), f"no attribute {unknown[0]!r}.")


def _check_wave(call: _Call, path: Path, earliest: dt.datetime | None) -> None:
    if earliest is not None and earliest.tzinfo is None:
        _refuse(call, (*path, "earliest_start"), "give a time zone (e.g. +07:00 or Z).")


def _specs(config: FlagConfig) -> list[plans.WaveSpec]:
    assert config.plan is not None
    return [
        plans.WaveSpec(
            name=w.name,
            tenant_ids=list(w.tenants),
            ramp=tuple(w.ramp),
            earliest_start=w.earliest_start,
            gate=tuple(Criterion(c.metric, c.minimum) for c in w.gate),
            sustain_days=w.sustain_days,
        )
        for w in config.plan.waves
    ]


def _wave_data(config: FlagConfig) -> list[dict[str, Any]]:
    """The file's waves as the export writes them, to compare with the database's."""
    assert config.plan is not None
    return [
        {
            "name": w.name,
            "tenants": sorted(w.tenants),
            "ramp": [exporting.percent(round(p * 100)) for p in w.ramp],
            "earliest_start": None if w.earliest_start is None else w.earliest_start.isoformat(),
            "gate": [{"metric": c.metric.value, "minimum": c.minimum} for c in w.gate],
            "sustain_days": w.sustain_days,
        }
        for w in config.plan.waves
    ]


async def _apply_plan(call: _Call, key: str, config: FlagConfig) -> None:
    s, province = call.session, call.province_id
    current = await exporting.plan_of(session=s, province_id=province, flag_key=key)
    path: Path = ("flags", key, "plan")
    if config.plan is None:
        if current is not None:
            _refuse(call, ("flags", key), "the flag has a plan; an import cannot remove it.")
        return
    if current is None:
        await plans.create(
            session=s,
            province_id=province,
            flag_key=key,
            waves=_specs(config),
            actor=call.actor,
            now=call.now,
            guardrail_drop=config.plan.guardrail_drop,
        )
        return
    if current["waves"] != _wave_data(config):
        _refuse(call, (*path, "waves"), "a plan's waves cannot be changed by an import.")
    if current["guardrail_drop"] != config.plan.guardrail_drop:
        await plans.set_guardrail(
            session=s,
            province_id=province,
            flag_key=key,
            drop=config.plan.guardrail_drop,
            actor=call.actor,
            reason=call.reason,
            now=call.now,
        )


async def _apply_flag(call: _Call, key: str, config: FlagConfig) -> None:
    s, province = call.session, call.province_id
    flag = await flags.ensure(
        session=s,
        province_id=province,
        key=key,
        actor=call.actor,
        now=call.now,
        default_variant=config.default,
    )
    if (flag.description, flag.default_variant, flag.state) != (
        config.description,
        config.default,
        config.state.value,
    ):
        await flags.update(
            session=s,
            province_id=province,
            key=key,
            expected_version=flag.version,
            actor=call.actor,
            reason=call.reason,
            now=call.now,
            description=config.description,
            default_variant=config.default,
            state=FlagState(config.state),
        )
    await _apply_rules(call, key, config, flag.version)


async def _apply_rules(call: _Call, key: str, config: FlagConfig, version: int) -> None:
    rules = [({a: sorted(v) for a, v in sorted(r.when.items())}, r.serve) for r in config.rules]
    current = await exporting.rules_of(
        session=call.session, province_id=call.province_id, flag_key=key
    )
    if current != [{"when": w, "serve": v} for w, v in rules]:
        await flags.set_rules(
            session=call.session,
            province_id=call.province_id,
            key=key,
            rules=rules,
            expected_version=version,
            actor=call.actor,
            reason=call.reason,
            now=call.now,
        )


async def _apply_overrides(call: _Call, key: str, config: FlagConfig) -> None:
    s, province = call.session, call.province_id
    current = await exporting.overrides_of(session=s, province_id=province, flag_key=key)
    wanted = {t: {"variant": o.variant, "reason": o.reason} for t, o in config.overrides.items()}
    for tenant in sorted(set(current) | set(wanted)):
        if current.get(tenant) == wanted.get(tenant):
            continue
        target = wanted.get(tenant)
        await flags.set_override(
            session=s,
            province_id=province,
            key=key,
            tenant_id=tenant,
            variant=None if target is None else target["variant"],
            actor=call.actor,
            reason=call.reason if target is None else target["reason"],
            now=call.now,
        )


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per leaf that differs: ``+ path: new``, ``- path: old``, ``~ path: old → new``."""
    old, new = _leaves(before), _leaves(after)
    lines: list[str] = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            lines.append(f"+ {path}: {new[path]!r}")
        elif path not in new:
            lines.append(f"- {path}: {old[path]!r}")
        elif old[path] != new[path]:
            lines.append(f"~ {path}: {old[path]!r} → {new[path]!r}")
    return lines


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        found: dict[str, Any] = {}
        for k, v in data.items():
            found |= _leaves(v, f"{prefix}.{k}" if prefix else str(k))
        return found
    return {prefix: data}
