"""Fixed-window request counting, for pages that strangers could hammer.

`rate_limit_hit` counts one request for a key in the current window and says
whether the count is within the limit; `rate_limit_peek` reads the count
without adding to it. Counters live in the default Django cache, shared by
every web process, through its public API only (`add` then `incr`); each
entry expires with its window.

If the cache fails (Redis down, or stalled past its socket timeout), the
request is counted in this process instead (`process_counter`, fixed windows
too, at most PROCESS_COUNTER_MAX_KEYS counters) and the failure is logged:
during an outage a client gets the limit from each web process, never
unlimited.

Policies (which key, which limit, what a refusal says) sit beside the views
they guard: payments/ratelimit.py, shop/orders/views.py and views_find.py. `client_ip` is
the address every limit, and django-axes, counts.
"""

import hashlib
import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

PROCESS_COUNTER_MAX_KEYS = 10_000  # a flood from many addresses cannot grow a worker's memory past this


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    retry_after: int  # seconds until the current window ends


class ProcessCounter:
    """Counters in this process's memory, each counting 0 once its window has ended.

    When `max_keys` counters are held, ended ones are dropped first, then the
    oldest: a flood of new keys can reset old counts, never exhaust memory.
    """

    def __init__(self, *, max_keys: int = PROCESS_COUNTER_MAX_KEYS):
        self.max_keys = max_keys
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, when its window ends)
        self._lock = threading.Lock()  # gunicorn threads share one process

    def incr(self, key: str, *, window_end: float, now: float) -> int:
        with self._lock:
            count = self._current(key, now) + 1
            if key not in self._counts and len(self._counts) >= self.max_keys:
                self._make_room(now)
            self._counts[key] = (count, window_end)
            return count

    def get(self, key: str, *, now: float) -> int:
        with self._lock:
            return self._current(key, now)

    def __len__(self) -> int:
        return len(self._counts)

    def _current(self, key: str, now: float) -> int:
        count, window_end = self._counts.get(key, (0, now))
        return count if window_end > now else 0

    def _make_room(self, now: float) -> None:
        for key in [key for key, (_, window_end) in self._counts.items() if window_end <= now]:
            del self._counts[key]
        while len(self._counts) >= self.max_keys:
            del self._counts[next(iter(self._counts))]


process_counter = ProcessCounter()


def client_ip(request: HttpRequest, *, num_proxies: int | None = None) -> str:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind `num_proxies` trusted proxies.

    Each proxy appends the address it received the request from, so the
    client is the entry `num_proxies` from the right; anything further left
    was written by the client and is never trusted. With NUM_PROXIES=0 (the
    default) the header is ignored entirely.
    """
    num_proxies = settings.NUM_PROXIES if num_proxies is None else num_proxies
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if num_proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            candidate = hops[-min(num_proxies, len(hops))]
            if _is_ip(candidate):
                return candidate
    return remote_addr


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def ip_bucket(ip: str) -> str:
    """IPv6 clients usually own a whole /64: count them as one."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def rate_limit_hit(
    *, scope: str, key: str, limit: int, window: int, store: BaseCache | None = None
) -> RateLimitResult:
    """Count one request for `key` in the current `window` (seconds); allowed while the count <= `limit`.

    `store` defaults to the configured cache.
    """
    return _rate_limit(scope=scope, key=key, limit=limit, window=window, store=store, count_this=True)


def rate_limit_peek(
    *, scope: str, key: str, limit: int, window: int, store: BaseCache | None = None
) -> RateLimitResult:
    """The count so far for `key` in the current window, and whether it is within `limit`; counts nothing."""
    return _rate_limit(scope=scope, key=key, limit=limit, window=window, store=store, count_this=False)


def _rate_limit(
    *, scope: str, key: str, limit: int, window: int, store: BaseCache | None, count_this: bool
) -> RateLimitResult:
    store = cache if store is None else store
    now = time.time()
    window_start = int(now // window) * window
    window_end = window_start + window
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    counter_key = f"ratelimit:{scope}:{digest}:{window_start}"
    try:
        count = _shared_incr(store, counter_key, window) if count_this else store.get(counter_key, 0)
    except Exception as exc:  # any cache failure: count here rather than not at all
        logger.error("rate_limit_counted_in_process", extra={"scope": scope, "error": type(exc).__name__})
        if count_this:
            count = process_counter.incr(counter_key, window_end=window_end, now=now)
        else:
            count = process_counter.get(counter_key, now=now)
    retry_after = max(1, math.ceil(window_end - now))
    return RateLimitResult(allowed=count <= limit, count=count, retry_after=retry_after)


def _shared_incr(store: BaseCache, key: str, window: int) -> int:
    store.add(key, 0, timeout=window)
    try:
        return store.incr(key)
    except ValueError:  # evicted between add and incr: this request starts the count again
        store.add(key, 1, timeout=window)
        return 1
