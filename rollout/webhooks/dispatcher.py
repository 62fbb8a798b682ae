"""What each gateway replica runs for webhooks: fan out new events, post the due attempts.

Every replica runs it; ``delivery.py`` keeps two from making the same attempt.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock, utc_now
from rollout.webhooks import delivery
from rollout.webhooks.delivery import Claim, RetryPolicy

MAX_ERROR = 500


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        worker: str,
        policy: RetryPolicy | None = None,
        clock: Clock = utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sessionmaker, self.worker, self.clock = sessionmaker, worker, clock
        self.policy = policy or RetryPolicy()
        self.transport = transport

    async def run_once(self) -> int:
        """Fan out the new events, then make every due attempt; the attempts made."""
        async with self.sessionmaker() as session:
            if not await delivery.has_work(session=session, now=self.clock()):
                return 0
            await session.rollback()  # end the read before the write lock
            while await delivery.fan_out(session=session, now=self.clock()):
                await session.commit()
            await session.commit()
        made = 0
        while claims := await self._claim():
            await self._send_all(claims)
            made += len(claims)
        return made

    async def _claim(self) -> list[Claim]:
        async with self.sessionmaker() as session:
            claims = await delivery.claim(
                session=session, now=self.clock(), worker=self.worker, policy=self.policy
            )
            await session.commit()  # the lease holds before anything is sent
            return claims

    async def _send_all(self, claims: list[Claim]) -> None:
        # redirects are not followed: a 3xx is a failed attempt (the URL was checked, not where
        # it redirects)
        async with httpx.AsyncClient(
            transport=self.transport, timeout=self.policy.timeout_s, follow_redirects=False
        ) as client:
            await asyncio.gather(*(self._send(client, c) for c in claims))

    async def _send(self, client: httpx.AsyncClient, claim: Claim) -> None:
        status_code, error = await post(client, claim)
        async with self.sessionmaker() as session:
            await delivery.record(
                session=session,
                claim=claim,
                status_code=status_code,
                error=error,
                now=self.clock(),
                policy=self.policy,
            )
            await session.commit()


async def post(client: httpx.AsyncClient, claim: Claim) -> tuple[int | None, str]:
    """POST one attempt, signed now; (status code or None, what went wrong or "")."""
    sent = delivery.headers(claim, int(time.time()))
    try:
        response = await client.post(claim.url, content=claim.body, headers=sent)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR] or type(exc).__name__
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"
