"""Which branch a member belongs to, for flag rules that match on branch outside GraphQL (OFREP).

Read from the member's tenant (row-level security applies) only when some rule matches on
branch, and kept for ``ttl_s`` in a bounded, least-recently-used map keyed by (tenant, member):
a transfer reaches flag evaluation within that time.

Flag evaluation must never fail because of the database, so a read is awaited at most
``timeout_s`` (:data:`ATTRIBUTE_TIMEOUT_S`): past it, or when the read fails, the branch is
unavailable (:class:`BranchUnavailable`) and the caller evaluates with the fallback. A read that
outlives its caller keeps running (once per member, however many callers wait) and fills the
map when it succeeds; cancelling it midway would leave its connection unusable.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.sessions import scope_session
from rollout.evaluation import ATTRIBUTE_TIMEOUT_S
from tenants.handbook.service import get_member

Key = tuple[str, str]

logger = logging.getLogger("pilotgraph.rollout")


class BranchUnavailable(Exception):
    """The member's branch could not be read in time (database down, slow or refusing)."""


class MemberBranches:
    def __init__(
        self,
        *,
        ttl_s: float = 60.0,
        max_entries: int = 50_000,
        timeout_s: float = ATTRIBUTE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s, self.max_entries, self.timeout_s = ttl_s, max_entries, timeout_s
        self.clock = clock
        self._entries: OrderedDict[Key, tuple[float, str | None]] = OrderedDict()
        self._reads: dict[Key, asyncio.Task[str | None]] = {}

    async def branch_of(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, tenant_id: str, subject: str
    ) -> str | None:
        """The branch id of member ``subject`` of ``tenant_id``; None if not a member.

        Raises :class:`BranchUnavailable` when it cannot be read within ``timeout_s``.
        """
        key = (tenant_id, subject)
        cached = self._entries.get(key)
        if cached is not None and self.clock() - cached[0] < self.ttl_s:
            self._entries.move_to_end(key)
            return cached[1]
        read = self._reads.get(key)
        if read is None:
            read = asyncio.ensure_future(self._read_and_keep(sessionmaker, key))
            self._reads[key] = read
            read.add_done_callback(lambda done: self._settled(key, done))
        try:
            return await asyncio.wait_for(asyncio.shield(read), self.timeout_s)
        except Exception as exc:  # timed out, or the database refused: the fallback applies
            raise BranchUnavailable(f"The branch of {subject!r} could not be read.") from exc

    async def _read_and_keep(
        self, sessionmaker: async_sessionmaker[AsyncSession], key: Key
    ) -> str | None:
        started = self.clock()
        branch = await _read(sessionmaker, *key)
        self._entries[key] = (started, branch)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return branch

    def _settled(self, key: Key, read: asyncio.Task[str | None]) -> None:
        if self._reads.get(key) is read:
            del self._reads[key]
        if not read.cancelled() and (error := read.exception()) is not None:
            logger.warning("member branch read failed, evaluating without it: %r", error)


async def _read(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str, subject: str
) -> str | None:
    try:
        member_id = uuid.UUID(subject)
    except ValueError:
        return None  # an admin's or service's subject: no branch
    async with scope_session(sessionmaker(), tenant_id) as session:
        member = await get_member(session=session, tenant_id=tenant_id, member_id=member_id)
    return str(member.branch_id) if member is not None else None
