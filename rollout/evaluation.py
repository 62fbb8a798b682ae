"""Pure flag evaluation over an immutable snapshot.

Order: kill switch → tenant override → rules → sticky percentage inside the tenant → default.
Reasons are OpenFeature's: STATIC, TARGETING_MATCH, SPLIT, DISABLED, DEFAULT, ERROR.

The fallback: an attribute the caller could not read (the database is down or too slow) is named
in ``EvaluationContext.unavailable``; rules on it do not match, and a result that a passed-over
rule on it might have changed names it in ``Evaluation.unavailable`` (transports answer STALE).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import mmh3

from rollout.flag_catalogue import BOOLEAN_VARIANTS, CATALOGUE, FIRST_VERSION, OFF, ON, FlagKey
from rollout.models import FlagState

BUCKETS = 10_000  # 0.01% steps: a percentage p covers buckets below p × 100
BRANCH = "branch"  # the one attribute read from the database (the member's branch)
# How long a caller waits for an attribute from the database before evaluating without it.
ATTRIBUTE_TIMEOUT_S = 1.0


class Reason(StrEnum):
    STATIC = "STATIC"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    DEFAULT = "DEFAULT"
    ERROR = "ERROR"


class ErrorCode(StrEnum):
    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """Who asks: the attributes rules match on. ``member`` is the targeting key."""

    tenant: str | None
    member: str | None
    roles: frozenset[str] = frozenset()
    branch: str | None = None
    unavailable: frozenset[str] = frozenset()  # attributes that could not be read: no rule matches

    def values(self, attribute: str) -> frozenset[str]:
        if attribute in self.unavailable:
            return frozenset()
        if attribute == "role":
            return self.roles
        value = {"tenant": self.tenant, "member": self.member, BRANCH: self.branch}.get(attribute)
        return frozenset() if value is None else frozenset({value})


@dataclass(frozen=True, slots=True)
class Rule:
    """Serve ``variant`` when every attribute has one of its accepted values."""

    conditions: tuple[tuple[str, frozenset[str]], ...]
    variant: str

    def matches(self, context: EvaluationContext) -> bool:
        return all(context.values(attr) & accepted for attr, accepted in self.conditions)

    def reads(self, attributes: frozenset[str]) -> frozenset[str]:
        """Which of ``attributes`` this rule's conditions name."""
        return attributes.intersection(attr for attr, _ in self.conditions)


@dataclass(frozen=True, slots=True)
class FlagConfig:
    key: str
    kind: str
    variants: Mapping[str, Any]
    default_variant: str
    rollout_variant: str
    state: str = FlagState.ACTIVE.value
    version: int = FIRST_VERSION  # not configured yet: served from the catalogue
    rules: tuple[Rule, ...] = ()
    overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    rollouts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_static(self) -> bool:
        return not (self.rules or self.overrides or self.rollouts)


@dataclass(frozen=True, slots=True)
class Evaluation:
    key: str
    value: Any
    variant: str | None
    reason: Reason
    error_code: ErrorCode | None = None
    version: int = 0
    # Unreadable attributes that a rule passed over names: with them the answer might differ.
    unavailable: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        return self.value is True

    @property
    def stale(self) -> bool:
        """Whether this is the fallback: an attribute it depends on could not be read."""
        return bool(self.unavailable)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every flag's configuration at one moment; ``etag`` changes with any of it."""

    flags: Mapping[str, FlagConfig]
    etag: str
    uses_branch: bool = False  # some rule matches on branch: callers must supply it

    def get(self, key: str) -> FlagConfig | None:
        return self.flags.get(key)


def bucket(flag_key: str, member: str) -> int:
    """The member's sticky bucket for a flag, in 0..9999: unsigned murmur3-32 of ``flag:member``."""
    return mmh3.hash(f"{flag_key}:{member}", signed=False) % BUCKETS


def evaluate(snapshot: Snapshot, key: str, context: EvaluationContext) -> Evaluation:
    """Evaluate one flag for one context; never raises."""
    config = snapshot.get(key)
    if config is None:
        return Evaluation(key, None, None, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
    if config.state != FlagState.ACTIVE.value:  # killed or archived: off, whatever the default
        off = OFF if OFF in config.variants else config.default_variant
        return _serve(config, off, Reason.DISABLED)
    if context.tenant is not None and context.tenant in config.overrides:
        return _serve(config, config.overrides[context.tenant], Reason.TARGETING_MATCH)
    missed: frozenset[str] = frozenset()  # unreadable attributes of the rules passed over
    for rule in config.rules:
        if rule.matches(context):
            return _fallback(_serve(config, rule.variant, Reason.TARGETING_MATCH), missed)
        missed |= rule.reads(context.unavailable)
    basis_points = config.rollouts.get(context.tenant or "", 0)
    if basis_points > 0:
        return _fallback(_split(config, basis_points, context), missed)
    reason = Reason.STATIC if config.is_static else Reason.DEFAULT
    return _fallback(_serve(config, config.default_variant, reason), missed)


def _fallback(result: Evaluation, missed: frozenset[str]) -> Evaluation:
    return replace(result, unavailable=missed) if missed else result


def _split(config: FlagConfig, basis_points: int, context: EvaluationContext) -> Evaluation:
    if basis_points >= BUCKETS:
        return _serve(config, config.rollout_variant, Reason.SPLIT)
    if context.member is None:
        return Evaluation(
            config.key,
            config.variants[config.default_variant],
            config.default_variant,
            Reason.ERROR,
            ErrorCode.TARGETING_KEY_MISSING,
            config.version,
        )
    inside = bucket(config.key, context.member) < basis_points
    return _serve(
        config, config.rollout_variant if inside else config.default_variant, Reason.SPLIT
    )


def _serve(config: FlagConfig, variant: str, reason: Reason) -> Evaluation:
    return Evaluation(config.key, config.variants[variant], variant, reason, None, config.version)


def catalogue_config(key: FlagKey) -> FlagConfig:
    """A catalogue flag nobody has configured yet: what ``flags.ensure`` would create."""
    entry = CATALOGUE[key]
    return FlagConfig(
        key=key.value,
        kind=entry.kind.value,
        variants=BOOLEAN_VARIANTS,
        default_variant=entry.unconfigured_variant,
        rollout_variant=ON,
        version=FIRST_VERSION,
    )


def make_snapshot(configs: Mapping[str, FlagConfig]) -> Snapshot:
    """A snapshot of the given flags plus every unconfigured catalogue flag."""
    flags: dict[str, FlagConfig] = {key.value: catalogue_config(key) for key in CATALOGUE}
    flags.update(configs)
    digest = hashlib.sha256()
    for key in sorted(flags):
        # The default too: a row created at FIRST_VERSION may serve another default than the
        # catalogue's unconfigured flag of the same version.
        digest.update(f"{key}:{flags[key].version}:{flags[key].default_variant};".encode())
    uses_branch = any(
        attr == BRANCH
        for config in flags.values()
        for rule in config.rules
        for attr, _ in rule.conditions
    )
    return Snapshot(MappingProxyType(flags), digest.hexdigest()[:32], uses_branch)


EMPTY = make_snapshot({})
