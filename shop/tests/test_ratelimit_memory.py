"""The limiter's per-process memory of clients over their limit (shop/ratelimit.py)."""

from django.core.cache.backends.locmem import LocMemCache

from shop import ratelimit
from shop.ratelimit import rate_limit_hit, rate_limit_known_over

WINDOW_START = 600.0 * 1_800_000  # a window boundary


def hit(store, key, *, limit=1, scope="guess", at=WINDOW_START + 10):
    return rate_limit_hit(scope=scope, key=key, limit=limit, window=600, now=at, store=store)


def counter():
    return LocMemCache(f"ratelimit-memory-{id(object())}", {})


def test_only_a_count_over_the_limit_is_remembered_for_its_scope_until_its_window_ends():
    store = counter()
    hit(store, "203.0.113.7")
    assert rate_limit_known_over(scope="guess", key="203.0.113.7", now=WINDOW_START + 11) is None
    over = hit(store, "203.0.113.7")
    known = rate_limit_known_over(scope="guess", key="203.0.113.7", now=WINDOW_START + 11)
    assert (known.allowed, known.count, known.retry_after) == (False, over.count, 589)
    assert rate_limit_known_over(scope="other", key="203.0.113.7", now=WINDOW_START + 11) is None
    assert rate_limit_known_over(scope="guess", key="203.0.113.8", now=WINDOW_START + 11) is None
    assert rate_limit_known_over(scope="guess", key="203.0.113.7", now=WINDOW_START + 599.9).retry_after == 1
    assert rate_limit_known_over(scope="guess", key="203.0.113.7", now=WINDOW_START + 600) is None


def test_the_memory_is_bounded_ended_windows_forgotten_first_then_the_earliest_found(monkeypatch):
    monkeypatch.setattr(ratelimit, "KNOWN_OVER_MAX", 3)
    store = counter()
    for key in ("a", "b"):  # found over in the previous window
        hit(store, key, limit=0, at=WINDOW_START - 10)
    for key in ("c", "d", "e"):
        hit(store, key, limit=0)
    now = WINDOW_START + 20
    assert [rate_limit_known_over(scope="guess", key=k, now=now) is not None for k in "cde"] == [True] * 3
    assert len(ratelimit._known_over) == 3
    hit(store, "f", limit=0)
    assert [rate_limit_known_over(scope="guess", key=k, now=now) is not None for k in "cdef"] == [
        False,
        True,
        True,
        True,
    ]
    assert len(ratelimit._known_over) == 3


def test_a_cache_outage_remembers_nobody():
    class Unreachable(LocMemCache):
        def add(self, *args, **kwargs):
            raise ConnectionError("cache down")

    store = Unreachable("ratelimit-memory-down", {})
    assert hit(store, "203.0.113.7", limit=0).allowed
    assert rate_limit_known_over(scope="guess", key="203.0.113.7", now=WINDOW_START + 11) is None
