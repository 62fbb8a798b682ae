"""Read each province's flag configuration into an immutable snapshot, and hold the process's
current ones: the cache is keyed by province, so one province's flags never serve another's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rollout.evaluation import EMPTY, FlagConfig, Rule, Snapshot, make_snapshot
from rollout.models import Flag, FlagOverride, FlagRule, TenantRollout

logger = logging.getLogger("pilotgraph.rollout")
CHANNEL = "pilotgraph_flags"


ProvinceSnapshots = Mapping[str, Snapshot]


def _configs(
    flags: Sequence[Flag],
    rules: Mapping[tuple[str, str], list[Rule]],
    overrides: Mapping[tuple[str, str], dict[str, str]],
    rollouts: Mapping[tuple[str, str], dict[str, int]],
) -> dict[str, dict[str, FlagConfig]]:
    by_province: dict[str, dict[str, FlagConfig]] = defaultdict(dict)
    for flag in flags:
        mine = (flag.province_id, flag.key)
        by_province[flag.province_id][flag.key] = FlagConfig(
            key=flag.key,
            kind=flag.kind,
            variants=MappingProxyType(dict(flag.variants)),
            default_variant=flag.default_variant,
            rollout_variant=flag.rollout_variant,
            state=flag.state,
            version=flag.version,
            rules=tuple(rules.get(mine, ())),
            overrides=MappingProxyType(overrides.get(mine, {})),
            rollouts=MappingProxyType(rollouts.get(mine, {})),
        )
    return by_province


async def load(*, session: AsyncSession) -> ProvinceSnapshots:
    """Every province's flag configuration, one snapshot per province, read in four queries."""
    flags = (await session.scalars(select(Flag))).all()
    rules: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    for rule in await session.scalars(select(FlagRule).order_by(FlagRule.position)):
        conditions = tuple(
            (attr, frozenset(values)) for attr, values in sorted(rule.conditions.items())
        )
        rules[rule.province_id, rule.flag_key].append(Rule(conditions, rule.variant))
    overrides: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for override in await session.scalars(select(FlagOverride)):
        overrides[override.province_id, override.flag_key][override.tenant_id] = override.variant
    rollouts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for rollout in await session.scalars(select(TenantRollout)):
        rollouts[rollout.province_id, rollout.flag_key][rollout.tenant_id] = rollout.basis_points
    configs = _configs(flags, rules, overrides, rollouts)
    return MappingProxyType({p: make_snapshot(c) for p, c in configs.items()})


class FlagStore:
    """The process's current snapshots, one per province; a failed reload keeps serving the
    last good ones.

    A province with no configured flag is served the catalogue's defaults (:data:`EMPTY`).
    Subscribers (``featuresChanged``) get the snapshots each time one's ETag changes.
    """

    def __init__(self) -> None:
        self.snapshots: ProvinceSnapshots = MappingProxyType({})
        self._subscribers: set[asyncio.Queue[ProvinceSnapshots]] = set()

    def snapshot_for(self, province_id: str | None) -> Snapshot:
        """The flag configuration of ``province_id`` (the catalogue's defaults for None)."""
        if province_id is None:
            return EMPTY
        return self.snapshots.get(province_id, EMPTY)

    async def reload(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, raise_on_failure: bool = False
    ) -> ProvinceSnapshots:
        """Read fresh snapshots; on a database error keep (and return) the last ones, and raise
        too when ``raise_on_failure`` (a listener that must retry until it has caught up)."""
        try:
            async with sessionmaker() as session:
                self._set(await load(session=session))
        except Exception:  # the database is unreachable: evaluation goes on from the last one
            logger.warning("flag reload failed; serving the last snapshot", exc_info=True)
            if raise_on_failure:
                raise
        return self.snapshots

    async def reload_from(self, session: AsyncSession) -> ProvinceSnapshots:
        """Read fresh snapshots on a session the caller holds (e.g. right after its commit)."""
        self._set(await load(session=session))
        return self.snapshots

    def _set(self, snapshots: ProvinceSnapshots) -> None:
        changed = _etags(snapshots) != _etags(self.snapshots)
        self.snapshots = snapshots
        if changed:
            for queue in self._subscribers:
                queue.put_nowait(snapshots)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[ProvinceSnapshots]]:
        """A queue that receives the snapshots each time they change, while the block runs."""
        queue: asyncio.Queue[ProvinceSnapshots] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)


def _etags(snapshots: ProvinceSnapshots) -> dict[str, str]:
    return {province: snapshot.etag for province, snapshot in snapshots.items()}
