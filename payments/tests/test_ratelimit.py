"""Card-testing defence on create-intent: per IP, per session, fixed windows, shared cache."""

import json
import logging
import os
import threading
import types
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache
from django.test import Client, RequestFactory
from django.urls import reverse

from payments.ratelimit import RATE_LIMIT_MESSAGE, client_ip, rate_limit_hit
from payments.tests.checkout import one_book_body
from shop import ratelimit as shop_ratelimit
from shop.orders.models import Order

pytestmark = pytest.mark.django_db

URL = reverse("payments:create_intent")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Counted like any attempt, but answered 400 before Stripe is called.
INVALID_BODY = json.dumps({"book": "", "email": "not-an-email"})


def attempt(client: Client, ip: str = "203.0.113.7", **extra):
    return client.post(URL, data=INVALID_BODY, content_type="application/json", REMOTE_ADDR=ip, **extra)


@pytest.fixture
def limits(settings):
    settings.CHECKOUT_RATE_LIMIT_PER_IP = 3
    settings.CHECKOUT_RATE_LIMIT_PER_SESSION = 2
    settings.CHECKOUT_RATE_LIMIT_WINDOW = 600
    settings.NUM_PROXIES = 0
    return settings


def test_per_ip_limit_answers_429_with_retry_after(limits, book):
    for _ in range(3):  # three shoppers (sessions) behind one address
        assert attempt(Client()).status_code == 400

    valid = json.dumps(one_book_body(book, "ada@example.com"))
    response = Client().post(URL, data=valid, content_type="application/json", REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 429
    assert response.json() == {"error": RATE_LIMIT_MESSAGE}
    assert 1 <= int(response["Retry-After"]) <= 600
    assert not Order.objects.exists()
    assert attempt(Client(), ip="198.51.100.1").status_code == 400  # other addresses are unaffected


def test_per_session_limit_follows_the_session_across_addresses(limits):
    client = Client()
    assert attempt(client, ip="203.0.113.1").status_code == 400
    assert attempt(client, ip="203.0.113.2").status_code == 400
    response = attempt(client, ip="203.0.113.3")
    assert response.status_code == 429
    assert response.json() == {"error": RATE_LIMIT_MESSAGE}
    assert attempt(Client(), ip="203.0.113.3").status_code == 400  # a fresh session from that address


def test_a_new_window_allows_again(limits, monkeypatch):
    start = 600.0 * 1_700_000  # a window boundary
    clock = types.SimpleNamespace(time=lambda: start)
    monkeypatch.setattr(shop_ratelimit, "time", clock)  # the limiter's clock (shop/ratelimit.py)
    client = Client()
    attempt(client)
    attempt(client)
    clock.time = lambda: start + 599
    blocked = attempt(client)
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "1"

    clock.time = lambda: start + 600
    assert attempt(client).status_code == 400


def test_limits_are_configurable_and_zero_turns_them_off(limits):
    limits.CHECKOUT_RATE_LIMIT_PER_IP = 0
    limits.CHECKOUT_RATE_LIMIT_PER_SESSION = 0
    client = Client()
    assert all(attempt(client).status_code == 400 for _ in range(12))


def test_blocked_attempts_are_logged_once_per_window(limits, caplog):
    limits.CHECKOUT_RATE_LIMIT_PER_IP = 100
    client = Client()
    with caplog.at_level(logging.WARNING, logger="payments.ratelimit"):
        for _ in range(6):
            attempt(client)
    messages = [r.getMessage() for r in caplog.records if r.name == "payments.ratelimit"]
    assert messages == ["checkout_rate_limited scope=session client=203.0.113.7 limit=2 window=600"]


def test_wrong_method_is_not_counted(limits):
    client = Client()
    for _ in range(5):
        assert client.get(URL).status_code == 405
    assert attempt(client).status_code == 400


# --- client address -----------------------------------------------------------------


def request_from(remote_addr: str, forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().post(URL, **extra)


def test_x_forwarded_for_is_ignored_without_trusted_proxies():
    request = request_from("203.0.113.9", "198.51.100.1")
    assert client_ip(request, num_proxies=0) == "203.0.113.9"


def test_x_forwarded_for_is_read_from_the_right_for_trusted_proxies():
    # The client forged "1.2.3.4"; our one proxy appended the real address.
    request = request_from("10.0.0.2", "1.2.3.4, 198.51.100.1")
    assert client_ip(request, num_proxies=1) == "198.51.100.1"
    # Two proxies (CDN, then load balancer): the CDN saw the client.
    request = request_from("10.0.0.2", "1.2.3.4, 198.51.100.1, 172.16.0.5")
    assert client_ip(request, num_proxies=2) == "198.51.100.1"
    # Not an address, or no header: REMOTE_ADDR.
    assert client_ip(request_from("10.0.0.2", "garbage"), num_proxies=1) == "10.0.0.2"
    assert client_ip(request_from("10.0.0.2"), num_proxies=1) == "10.0.0.2"


def test_forged_x_forwarded_for_cannot_dodge_the_ip_limit(limits):
    limits.CHECKOUT_RATE_LIMIT_PER_SESSION = 0
    for n in range(3):
        assert attempt(Client(), HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 400
    assert attempt(Client(), HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_ipv6_clients_are_counted_per_64(limits):
    limits.CHECKOUT_RATE_LIMIT_PER_SESSION = 0
    for n in range(3):
        assert attempt(Client(), ip=f"2001:db8:1:2::{n + 1}").status_code == 400
    assert attempt(Client(), ip="2001:db8:1:2:ffff::1").status_code == 429
    assert attempt(Client(), ip="2001:db8:1:3::1").status_code == 400


# --- the counters in Redis, shared by every process -------------------------------------


@pytest.fixture
def redis_prefix():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"stripe-press-test-{uuid.uuid4().hex}"
    yield prefix
    raw = redis.Redis.from_url(REDIS_URL)
    for key in raw.scan_iter(f"{prefix}*"):
        raw.delete(key)


def redis_cache(prefix: str) -> RedisCache:
    """One web process's view of the cache: its own client and connection pool."""
    return RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})


def test_counters_are_shared_across_processes(redis_prefix):
    first, second = redis_cache(redis_prefix), redis_cache(redis_prefix)
    assert first._cache.get_client() is not second._cache.get_client()
    results = [
        rate_limit_hit(scope="ip", key="203.0.113.7", limit=3, window=600, now=1_020_000_000, store=store)
        for store in (first, second, first, second)
    ]
    assert [r.count for r in results] == [1, 2, 3, 4]
    assert [r.allowed for r in results] == [True, True, True, False]


def test_concurrent_attempts_on_redis_are_all_counted(redis_prefix):
    stores = [redis_cache(redis_prefix) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    counts: list[int] = []

    def hammer(store: RedisCache) -> None:
        barrier.wait()
        for _ in range(25):
            result = rate_limit_hit(
                scope="ip", key="198.51.100.4", limit=50, window=600, now=1_020_000_000, store=store
            )
            counts.append(result.count)

    threads = [threading.Thread(target=hammer, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(counts) == list(range(1, 101))  # every attempt got its own number: none lost


def test_a_counter_in_redis_lives_one_window(redis_prefix):
    store = redis_cache(redis_prefix)
    first = rate_limit_hit(scope="ip", key="192.0.2.1", limit=3, window=600, now=1_020_000_000, store=store)
    second = rate_limit_hit(scope="ip", key="192.0.2.1", limit=3, window=600, now=1_020_000_001, store=store)
    assert (first.count, second.count) == (1, 2)
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}*ratelimit:ip:*"))
    assert len(keys) == 1
    assert all(0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 605 for key in keys)


def test_the_view_uses_the_configured_redis_cache(limits, redis_prefix):
    limits.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": redis_prefix,
        }
    }
    for _ in range(3):
        assert attempt(Client()).status_code == 400
    assert attempt(Client()).status_code == 429
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}*ratelimit:ip:*"))
    assert len(keys) == 1


def test_an_unreachable_cache_lets_shoppers_pay_and_logs(limits, caplog):
    limits.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with caplog.at_level(logging.ERROR, logger="payments.ratelimit"):
        assert attempt(Client()).status_code == 400
    logged = [(r.scope, r.error) for r in caplog.records if r.getMessage() == "rate_limit_unavailable"]
    assert ("ip", "ConnectionError") in logged
