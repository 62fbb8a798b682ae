"""Read the flag configuration into an immutable snapshot, and hold the process's current one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rollout.evaluation import EMPTY, FlagConfig, Rule, Snapshot, make_snapshot
from rollout.models import Flag, FlagOverride, FlagRule, TenantRollout

logger = logging.getLogger("pilotgraph.rollout")
CHANNEL = "pilotgraph_flags"


async def load(*, session: AsyncSession) -> Snapshot:
    """Every flag's configuration, read in four queries."""
    flags = (await session.scalars(select(Flag))).all()
    rules: dict[str, list[Rule]] = defaultdict(list)
    for rule in await session.scalars(select(FlagRule).order_by(FlagRule.position)):
        conditions = tuple(
            (attr, frozenset(values)) for attr, values in sorted(rule.conditions.items())
        )
        rules[rule.flag_key].append(Rule(conditions, rule.variant))
    overrides: dict[str, dict[str, str]] = defaultdict(dict)
    for override in await session.scalars(select(FlagOverride)):
        overrides[override.flag_key][override.tenant_id] = override.variant
    rollouts: dict[str, dict[str, int]] = defaultdict(dict)
    for rollout in await session.scalars(select(TenantRollout)):
        rollouts[rollout.flag_key][rollout.tenant_id] = rollout.basis_points
    return make_snapshot(
        {
            flag.key: FlagConfig(
                key=flag.key,
                kind=flag.kind,
                variants=MappingProxyType(dict(flag.variants)),
                default_variant=flag.default_variant,
                rollout_variant=flag.rollout_variant,
                state=flag.state,
                version=flag.version,
                rules=tuple(rules[flag.key]),
                overrides=MappingProxyType(overrides[flag.key]),
                rollouts=MappingProxyType(rollouts[flag.key]),
            )
            for flag in flags
        }
    )


class FlagStore:
    """The process's current snapshot; a failed reload keeps serving the last good one.

    Subscribers (``featuresChanged``) get each new snapshot whose ETag differs.
    """

    def __init__(self) -> None:
        self.snapshot: Snapshot = EMPTY
        self._subscribers: set[asyncio.Queue[Snapshot]] = set()

    async def reload(self, sessionmaker: async_sessionmaker[AsyncSession]) -> Snapshot:
        """Read a fresh snapshot; on a database error keep (and return) the last one."""
        try:
            async with sessionmaker() as session:
                self._set(await load(session=session))
        except Exception:  # the database is unreachable: evaluation goes on from the last one
            logger.warning("flag reload failed; serving the last snapshot", exc_info=True)
        return self.snapshot

    async def reload_from(self, session: AsyncSession) -> Snapshot:
        """Read a fresh snapshot on a session the caller holds (e.g. right after its commit)."""
        self._set(await load(session=session))
        return self.snapshot

    def _set(self, snapshot: Snapshot) -> None:
        changed = snapshot.etag != self.snapshot.etag
        self.snapshot = snapshot
        if changed:
            for queue in self._subscribers:
                queue.put_nowait(snapshot)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Snapshot]]:
        """A queue that receives every changed snapshot while the block runs."""
        queue: asyncio.Queue[Snapshot] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
