"""The payment views' rate limits: card testing on create-intent, Stripe calls from the success page.

Two limits apply to create-intent: per client IP and per session (settings
CHECKOUT_RATE_LIMIT_PER_IP / _PER_SESSION within CHECKOUT_RATE_LIMIT_WINDOW
seconds; 0 turns a limit off); the success page has one per client IP
(SUCCESS_PAGE_RATE_LIMIT_PER_IP). Counted by core/ratelimit.py, which says
what happens when its cache is down.
"""

import logging

from django.conf import settings
from django.http import HttpRequest

from core.ratelimit import client_ip, ip_bucket, rate_limit_hit

logger = logging.getLogger(__name__)

RATE_LIMIT_MESSAGE = "Too many payment attempts. Please wait a few minutes and try again."
SUCCESS_PAGE_RATE_LIMIT_MESSAGE = "Too many requests for payment results. Please wait a few minutes."


def checkout_rate_limit(request: HttpRequest) -> int | None:
    """Count a payment attempt; None if allowed, else the seconds to wait (Retry-After).

    The IP is checked first, so a blocked client creates no session row.
    """
    window = settings.CHECKOUT_RATE_LIMIT_WINDOW
    ip = client_ip(request)
    retry_after = _over_limit(
        scope="ip", key=ip_bucket(ip), limit=settings.CHECKOUT_RATE_LIMIT_PER_IP, window=window, client=ip
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
        key=ip_bucket(ip),
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
