"""Which branch a member belongs to, for flag rules that match on branch outside GraphQL (OFREP).

Read from the member's tenant (row-level security applies) only when some rule matches on
branch, and kept for ``ttl_s`` in a bounded, least-recently-used map keyed by (tenant, member):
a transfer reaches flag evaluation within that time.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenants.db import scope_session
from tenants.handbook.service import get_member

Key = tuple[str, str]


class MemberBranches:
    def __init__(
        self,
        *,
        ttl_s: float = 60.0,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[Key, tuple[float, str | None]] = OrderedDict()

    async def branch_of(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, tenant_id: str, subject: str
    ) -> str | None:
        """The branch id of member ``subject`` of ``tenant_id``; None if not a member."""
        key = (tenant_id, subject)
        now = self.clock()
        cached = self._entries.get(key)
        if cached is not None and now - cached[0] < self.ttl_s:
            self._entries.move_to_end(key)
            return cached[1]
        branch = await _read(sessionmaker, tenant_id, subject)
        self._entries[key] = (now, branch)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return branch


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
