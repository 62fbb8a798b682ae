"""An LRU map bounded by bytes: what clients can fill must not grow memory without end.

Each entry declares its size when stored (an estimate of the memory it keeps alive). The map
keeps at most ``max_bytes`` in total, evicting the least recently used entries; an entry larger
than ``max_entry_bytes`` is not kept at all, so one huge document cannot flush every small one.
Not thread-safe: the gateway runs on one event loop.
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# What a dict slot, the tuple around the value and the key's hash cost beyond the objects.
ENTRY_OVERHEAD = 200


def text_bytes(*texts: str) -> int:
    """The memory a few strings hold, plus one entry's overhead."""
    return ENTRY_OVERHEAD + sum(sys.getsizeof(text) for text in texts)


def variables_key(variables: Mapping[str, Any] | None, max_text: int) -> str | None:
    """Canonical JSON of a request's variables, for a cache key: ``""`` for none, ``None`` when
    longer than ``max_text`` characters (or not JSON), so large inputs are never kept."""
    if not variables:
        return ""
    try:
        text = json.dumps(variables, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return text if len(text) <= max_text else None


class ByteBoundedLRU(Generic[K, V]):
    """LRU map of at most ``max_bytes`` (and ``max_entries``, if given) in total."""

    def __init__(
        self, max_bytes: int, max_entry_bytes: int, max_entries: int | None = None
    ) -> None:
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.total_bytes = 0
        self.resize(max_bytes, max_entry_bytes, max_entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value for ``key`` (now most recently used), or ``None``."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, size: int) -> bool:
        """Keep ``value`` under ``key``; ``False`` when it is too large to keep."""
        self.pop(key)
        if size > self.max_entry_bytes or size > self.max_bytes:
            return False
        self._entries[key] = (value, size)
        self.total_bytes += size
        self._evict()
        return True

    def pop(self, key: K) -> V | None:
        """Forget ``key``; its value, or ``None``."""
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self.total_bytes -= found[1]
        return found[0]

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self.total_bytes = 0

    def resize(self, max_bytes: int, max_entry_bytes: int, max_entries: int | None = None) -> None:
        """New bounds; entries beyond them are evicted now."""
        self.max_bytes, self.max_entry_bytes = max_bytes, max_entry_bytes
        self.max_entries = max_entries
        for key in [k for k, (_, size) in self._entries.items() if size > max_entry_bytes]:
            self.pop(key)
        self._evict()

    def _evict(self) -> None:
        while self._entries and (
            self.total_bytes > self.max_bytes
            or (self.max_entries is not None and len(self._entries) > self.max_entries)
        ):
            _, (_, size) = self._entries.popitem(last=False)
            self.total_bytes -= size
