"""Verified bearer tokens, kept so that a token seen again skips its signature check.

Invariants:
- Only a token that passed every check is kept; a refused one never is.
- The key is the token's full text: a token that differs by one byte is another key, verified anew.
- An entry is served only before the token's ``exp`` and at most ``hold_s`` after it was
  verified (``MAX_HOLD_S``; with a JWKS, at most its cache time, so that a key retired from the
  set stops being honoured at most that long after the set's own cache); a served entry's times and
  scope are checked again (``gateway.claims``), so ``nbf``, the leeway and a tenant that left the
  registry apply as they would to a fresh verification.
- The cache is bounded by entries and by bytes (``schema.bounded.ByteBoundedLRU``: each entry
  counts its token's memory plus ``ENTRY_OVERHEAD``); the least recently used go first, and a
  token larger than ``MAX_ENTRY_BYTES`` is never kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.claims import Claims
from schema.bounded import ByteBoundedLRU, text_bytes
from tenants.identity import Principal

MAX_HOLD_S = 300.0
MAX_ENTRIES = 10_000
MAX_BYTES = 8 * 1024 * 1024
MAX_ENTRY_BYTES = 16 * 1024
# What an entry holds besides its token: the claims, the principal and their strings (measured
# with sys.getsizeof on a typical member token, rounded up).
ENTRY_OVERHEAD = 1024


def _now() -> float:
    return time.time()  # looked up per call, as ``gateway.claims.check_times`` does


@dataclass(frozen=True, slots=True)
class Verified:
    """A token's verified claims and the principal built from them."""

    claims: Claims
    principal: Principal
    until: float  # time.time() at which the entry stops being served


def entry_bytes(token: str) -> int:
    """What a token's entry counts for in the cache's bound."""
    return text_bytes(token) + ENTRY_OVERHEAD


class TokenCache:
    """Verified tokens by their text, bounded by count and bytes (see the module's invariants)."""

    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
        hold_s: float = MAX_HOLD_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._entries: ByteBoundedLRU[str, Verified] = ByteBoundedLRU(
            max_bytes, max_entry_bytes, max_entries
        )
        self._hold_s = min(hold_s, MAX_HOLD_S)
        self._clock = clock or _now

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """The bytes the entries count for."""
        return self._entries.total_bytes

    def get(self, token: str) -> Verified | None:
        """The token's entry while it may be served; an expired one is dropped."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if self._clock() >= entry.until:
            self._entries.pop(token)
            return None
        return entry

    def put(self, token: str, claims: Claims, principal: Principal) -> None:
        """Keep a token that passed every check, until its ``exp`` or ``hold_s`` from now."""
        now = self._clock()
        until = min(claims.exp, now + self._hold_s)
        if until > now:
            self._entries.put(token, Verified(claims, principal, until), entry_bytes(token))
