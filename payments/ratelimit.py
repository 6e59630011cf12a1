"""Card-testing defence: cap how often one client may start a payment.

Fixed-window counters in the configured Django cache (CACHE_URL). With Redis
every web process shares them; `cache.add` + `cache.incr` are atomic there,
so concurrent requests each get their own count. Two limits apply to
create-intent: per client IP and per session (settings
CHECKOUT_RATE_LIMIT_PER_IP / _PER_SESSION within CHECKOUT_RATE_LIMIT_WINDOW
seconds; 0 turns a limit off).

If the cache itself is down the request is allowed (and logged): losing the
shop's checkout to a cache outage would hurt more than a few minutes without
the limit.
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

RATE_LIMIT_MESSAGE = "Too many payment attempts. Please wait a few minutes and try again."
SUCCESS_PAGE_RATE_LIMIT_MESSAGE = "Too many requests for payment results. Please wait a few minutes."


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    retry_after: int  # seconds until the current window ends


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


def _ip_bucket(ip: str) -> str:
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
        store.add(cache_key, 0, timeout=window + 5)
        try:
            count = store.incr(cache_key)
        except ValueError:  # expired between add and incr
            store.add(cache_key, 1, timeout=window + 5)
            count = 1
    except Exception as exc:  # the cache is down: fail open, loudly
        logger.error("rate_limit_unavailable", extra={"scope": scope, "error": type(exc).__name__})
        return RateLimitResult(allowed=True, count=0, retry_after=0)
    return RateLimitResult(allowed=count <= limit, count=count, retry_after=retry_after)


def checkout_rate_limit(request: HttpRequest) -> int | None:
    """Count a payment attempt; None if allowed, else the seconds to wait (Retry-After).

    The IP is checked first, so a blocked client creates no session row.
    """
    window = settings.CHECKOUT_RATE_LIMIT_WINDOW
    ip = client_ip(request)
    retry_after = _over_limit(
        scope="ip", key=_ip_bucket(ip), limit=settings.CHECKOUT_RATE_LIMIT_PER_IP, window=window, client=ip
    )
    if retry_after is None and settings.CHECKOUT_RATE_LIMIT_PER_SESSION > 0:
        if not request.session.session_key:
            request.session.save()
        retry_after = _over_limit(
            scope="session",
            key=request.session.session_key,
            limit=settings.CHECKOUT_RATE_LIMIT_PER_SESSION,
            window=window,
            client=ip,
        )
    return retry_after


def success_page_rate_limit(request: HttpRequest) -> int | None:
    """Count a success-page load by client IP; None if allowed, else the seconds to wait.

    Each load may ask Stripe about a PaymentIntent: a cap keeps strangers
    from turning the page into a stream of Stripe calls.
    """
    ip = client_ip(request)
    return _over_limit(
        scope="success",
        key=_ip_bucket(ip),
        limit=settings.SUCCESS_PAGE_RATE_LIMIT_PER_IP,
        window=settings.CHECKOUT_RATE_LIMIT_WINDOW,
        client=ip,
    )


def _over_limit(*, scope: str, key: str, limit: int, window: int, client: str) -> int | None:
    if limit <= 0:
        return None
    result = rate_limit_hit(scope=scope, key=key, limit=limit, window=window)
    if result.allowed:
        return None
    if result.count == limit + 1:  # log once per window, not on every blocked request
        logger.warning(
            "checkout_rate_limited scope=%s client=%s limit=%s window=%s", scope, client, limit, window
        )
    return result.retry_after
