"""The limiter (core/ratelimit.py): fixed windows, and a per-process counter while the cache fails."""

import logging

import pytest
from django.core.cache.backends.redis import RedisCache

from core.ratelimit import ProcessCounter, rate_limit_hit, rate_limit_peek
from tests.unreachable import closed_port, silent_port

WINDOW_END = 1_020_000_600.0


def test_the_process_counter_counts_within_a_window_and_starts_again_after_it():
    counter = ProcessCounter()
    assert [counter.incr("k", window_end=WINDOW_END, now=WINDOW_END - 10) for _ in range(3)] == [1, 2, 3]
    assert counter.get("k", now=WINDOW_END - 1) == 3
    assert counter.get("k", now=WINDOW_END) == 0
    assert counter.incr("k", window_end=WINDOW_END + 600, now=WINDOW_END) == 1
    assert counter.get("other", now=WINDOW_END) == 0


def test_the_process_counter_is_bounded_dropping_ended_windows_then_the_oldest():
    counter = ProcessCounter(max_keys=3)
    counter.incr("ended", window_end=WINDOW_END - 600, now=WINDOW_END - 700)
    for key in ("a", "b"):
        counter.incr(key, window_end=WINDOW_END, now=WINDOW_END - 10)
    counter.incr("c", window_end=WINDOW_END, now=WINDOW_END - 10)  # full: the ended counter goes
    assert len(counter) == 3
    assert [counter.get(key, now=WINDOW_END - 5) for key in "abc"] == [1, 1, 1]

    counter.incr("b", window_end=WINDOW_END, now=WINDOW_END - 5)  # a known key takes no room
    counter.incr("d", window_end=WINDOW_END, now=WINDOW_END - 5)  # all current: the oldest goes
    assert len(counter) == 3
    assert [counter.get(key, now=WINDOW_END - 5) for key in "abcd"] == [0, 2, 1, 1]


@pytest.fixture(params=["refused", "stalled"])
def unavailable_redis(request):
    """A Redis cache on a port that refuses connections, or accepts them and never answers."""

    def store(port: int) -> RedisCache:
        options = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
        return RedisCache(f"redis://127.0.0.1:{port}/0", {"OPTIONS": options})

    if request.param == "refused":
        yield store(closed_port())
    else:
        with silent_port() as port:
            yield store(port)


def test_with_the_cache_unavailable_requests_are_counted_in_the_process_and_logged(unavailable_redis, caplog):
    counted = {"scope": "guess", "key": "203.0.113.7", "limit": 2, "window": 600, "store": unavailable_redis}
    with caplog.at_level(logging.ERROR, logger="core.ratelimit"):
        results = [rate_limit_hit(**counted) for _ in range(3)]
        peeked = rate_limit_peek(**counted)
    assert [(r.count, r.allowed) for r in results] == [(1, True), (2, True), (3, False)]
    assert (peeked.count, peeked.allowed) == (3, False)
    assert results[-1].retry_after == 300  # the limiter's clock is mid-window (conftest.py)
    logged = [r for r in caplog.records if r.getMessage() == "rate_limit_counted_in_process"]
    assert len(logged) == 4
    assert {r.scope for r in logged} == {"guess"}
    assert {r.error for r in logged} <= {"ConnectionError", "TimeoutError"}
