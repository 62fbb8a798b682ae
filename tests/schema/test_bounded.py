"""The byte-bounded LRU map every client-fillable cache uses."""

from __future__ import annotations

from schema.bounded import ByteBoundedLRU


def test_least_recently_used_entries_go_first_once_over_the_bytes():
    # given
    cache: ByteBoundedLRU[str, int] = ByteBoundedLRU(max_bytes=300, max_entry_bytes=200)
    cache.put("a", 1, 100)
    cache.put("b", 2, 100)
    cache.get("a")
    # when
    cache.put("c", 3, 150)
    # then: b was least recently used
    assert "b" not in cache
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert cache.total_bytes == 250


def test_an_entry_over_the_entry_bound_is_not_kept_and_evicts_nothing():
    # given
    cache: ByteBoundedLRU[str, int] = ByteBoundedLRU(max_bytes=1_000, max_entry_bytes=100)
    cache.put("small", 1, 50)
    # when
    kept = cache.put("huge", 2, 101)
    # then
    assert kept is False
    assert "huge" not in cache
    assert cache.get("small") == 1
    assert cache.total_bytes == 50


def test_replacing_a_key_recounts_its_bytes():
    # given
    cache: ByteBoundedLRU[str, int] = ByteBoundedLRU(max_bytes=1_000, max_entry_bytes=500)
    cache.put("a", 1, 400)
    # when
    cache.put("a", 2, 10)
    # then
    assert cache.get("a") == 2
    assert cache.total_bytes == 10


def test_shrinking_evicts_now_and_an_entry_count_bounds_too():
    # given
    cache: ByteBoundedLRU[int, int] = ByteBoundedLRU(max_bytes=10_000, max_entry_bytes=1_000)
    for n in range(10):
        cache.put(n, n, 500)
    # when
    cache.resize(max_bytes=2_000, max_entry_bytes=1_000, max_entries=3)
    # then
    assert len(cache) == 3
    assert cache.total_bytes == 1_500
    assert [n for n in range(10) if n in cache] == [7, 8, 9]
