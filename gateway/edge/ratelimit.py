"""Token-bucket rate limits per verified principal and per tenant: in-process or Redis-backed.

Keys come only from verified identity (the token's subject) or the client address: an
unverified header never creates a bucket. With ``PILOTGRAPH_REDIS_URL`` the buckets live in
Redis (one atomic Lua script), shared by every replica; if Redis is unreachable the replica
falls back to its own buckets rather than refusing or waving everything through.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from redis.exceptions import RedisError

from gateway.edge.config import RateLimit
from gateway.edge.http_spec import EdgeRefusal

if TYPE_CHECKING:
    from gateway.settings import Settings
    from tenants.identity import Principal
    from tenants.registry import TenantInfo

logger = logging.getLogger("pilotgraph.ratelimit")
MAX_LOCAL_BUCKETS = 100_000
REDIS_PREFIX = "pilotgraph:rl:"

# KEYS[1] bucket; ARGV rate/s, burst. Redis' own clock keeps replicas consistent.
BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


class Limiter(Protocol):
    async def take(self, key: str, limit: RateLimit) -> Verdict: ...

    async def close(self) -> None: ...


class LocalLimiter:
    """Buckets in this process (one replica), at most ``capacity`` of them (LRU)."""

    def __init__(self, capacity: int = MAX_LOCAL_BUCKETS) -> None:
        self.capacity = capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, limit: RateLimit) -> Verdict:
        """Take one token from ``key``'s bucket."""
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - updated) * limit.per_second)
        if tokens >= 1:
            verdict, tokens = Verdict(True), tokens - 1
        else:
            verdict = Verdict(False, (1 - tokens) / limit.per_second)
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return verdict

    async def close(self) -> None:
        self._buckets.clear()


class RedisLimiter:
    """Buckets in Redis, shared by every replica; falls back to local buckets on Redis errors."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.script = self.redis.register_script(BUCKET_SCRIPT)
        self.fallback = LocalLimiter()

    async def take(self, key: str, limit: RateLimit) -> Verdict:
        """Take one token from ``key``'s bucket in Redis."""
        try:
            allowed, wait = await self.script(
                keys=[REDIS_PREFIX + key], args=[limit.per_second, limit.burst]
            )
        except (RedisError, OSError) as exc:  # degrade to local buckets, never fail open
            logger.warning("rate limits fall back to local buckets: %s", exc)
            return await self.fallback.take(key, limit)
        return Verdict(bool(int(allowed)), float(wait))

    async def close(self) -> None:
        await self.redis.aclose()


def make_limiter(redis_url: str | None) -> Limiter:
    """Redis-backed buckets when a URL is configured, else this process's own."""
    return RedisLimiter(redis_url) if redis_url else LocalLimiter()


class RateGate:
    """The edge's buckets: per principal (else client address), then per tenant.

    The principal is the one tenancy verified; without one the key is the client address
    (set by the server from the socket, or by uvicorn's ``--forwarded-allow-ips`` proxies).
    The tenant bucket is only taken for verified principals, so no header creates buckets.
    """

    def __init__(self, settings: Settings) -> None:
        self.edge = settings.edge
        self.enabled = settings.rate_limits_on
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        self.limiter: Limiter = shared_limiter(redis_url)

    async def take(
        self, principal: Principal | None, tenant: TenantInfo | None, address: str
    ) -> Verdict:
        """Take one token from the caller's bucket and, if signed in, its tenant's."""
        if not self.enabled:
            return Verdict(True)
        if principal is None:
            return await self.limiter.take(f"ip:{address}", self.edge.rate_for(None))
        roles = frozenset(str(role) for role in principal.roles)
        verdict = await self.limiter.take(f"sub:{principal.subject}", self.edge.rate_for(roles))
        if verdict.allowed and tenant is not None:
            verdict = await self.limiter.take(f"tenant:{tenant.id}", self.edge.tenant_rate_limit)
        return verdict


def refusal(verdict: Verdict) -> EdgeRefusal:
    """429 ``RATE_LIMITED`` with ``Retry-After``, for a bucket that had no token."""
    seconds = verdict.retry_after_header
    message = f"Too many requests; retry in {seconds} s."
    return EdgeRefusal(429, "RATE_LIMITED", message, {"Retry-After": seconds})


_limiters: dict[str, Limiter] = {}


def shared_limiter(redis_url: str | None) -> Limiter:
    """One Redis connection pool per URL for the process; local buckets per app."""
    if redis_url is None:
        return make_limiter(None)
    if redis_url not in _limiters:
        _limiters[redis_url] = make_limiter(redis_url)
    return _limiters[redis_url]


async def close_limiters() -> None:
    """Close the process's Redis pools (at shutdown)."""
    limiters = list(_limiters.values())
    _limiters.clear()
    for limiter in limiters:
        await limiter.close()
