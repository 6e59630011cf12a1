"""A fixed-window request limiter, for any page that strangers could hammer.

Counters live in the configured Django cache (CACHE_URL). With Redis every
web process shares them, counted in one atomic round trip (config/cache.py);
elsewhere `cache.add` + `cache.incr`. Concurrent requests each get their own
count. If the cache itself is down
the request is allowed (and logged): losing a page to a cache outage would
hurt more than a few minutes without the limit.

Each process also remembers, until its window ends, every key it has found
over its limit (`rate_limit_known_over`): a caller may refuse such a client
without a round trip, before looking at what it sent.

Used by payments (create-intent, the success page) and by the shopper's
order page (shop/orders/views.py); it knows nothing of either.
"""

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    retry_after: int  # seconds until the current window ends


# Keys this process found over their limit: {(scope, key): (count seen, when the window ends)}.
_known_over: dict[tuple[str, str], tuple[int, float]] = {}
KNOWN_OVER_MAX = 10_000  # a flood from many addresses cannot grow a worker's memory past this


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
    *, scope: str, key: str, limit: int, window: int, now: float | None = None, store: BaseCache | None = None
) -> RateLimitResult:
    """Count one request for `key` in the current `window` (seconds) and say if it is allowed.

    `store` defaults to the configured cache.
    """
    store = cache if store is None else store
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    retry_after = max(1, math.ceil(window_start + window - now))
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}:{window_start}"
    try:
        count = _counted(store, cache_key, timeout=window + 5)
    except Exception as exc:  # the cache is down: fail open, loudly
        logger.error("rate_limit_unavailable", extra={"scope": scope, "error": type(exc).__name__})
        return RateLimitResult(allowed=True, count=0, retry_after=0)
    if count > limit:
        _remember_over(scope, key, count=count, until=window_start + window, now=now)
    return RateLimitResult(allowed=count <= limit, count=count, retry_after=retry_after)


def rate_limit_known_over(*, scope: str, key: str, now: float | None = None) -> RateLimitResult | None:
    """The refusal this process last counted for `key`, if its window has not ended; else None.

    Asks no cache: a client another process found over the limit is known
    here once this process counts one of its requests too.
    """
    if not _known_over:
        return None
    now = time.time() if now is None else now
    seen = _known_over.get((scope, key))
    if seen is None or seen[1] <= now:
        return None
    count, until = seen
    return RateLimitResult(allowed=False, count=count, retry_after=max(1, math.ceil(until - now)))


def rate_limit_memory_clear() -> None:
    """Forget every key this process found over its limit (tests start from none)."""
    _known_over.clear()


def _remember_over(scope: str, key: str, *, count: int, until: float, now: float) -> None:
    if len(_known_over) >= KNOWN_OVER_MAX:
        for entry in [entry for entry, (_, ends) in _known_over.items() if ends <= now]:
            del _known_over[entry]
        while len(_known_over) >= KNOWN_OVER_MAX:  # all still current: forget the earliest found
            del _known_over[next(iter(_known_over))]
    _known_over[(scope, key)] = (count, until)


def _counted(store: BaseCache, key: str, *, timeout: int) -> int:
    """Add 1 to the counter at `key`: in one round trip on Redis (config/cache.py), else add + incr."""
    if hasattr(store, "incr_expiring"):
        return store.incr_expiring(key, timeout=timeout)
    store.add(key, 0, timeout=timeout)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr
        store.add(key, 1, timeout=timeout)
        return 1
