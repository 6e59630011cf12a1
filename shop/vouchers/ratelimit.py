"""A cap on discount codes tried per client (DISCOUNT_CODE_RATE_LIMIT_PER_IP per
CHECKOUT_RATE_LIMIT_WINDOW seconds; 0 = no limit), so codes cannot be guessed
by trying a dictionary of them. Counted by core/ratelimit.py, which says what
happens when its cache is down."""

from django.conf import settings
from django.http import HttpRequest

from core.ratelimit import client_ip, ip_bucket, rate_limit_hit

RATE_LIMIT_MESSAGE = "Too many discount codes tried. Please wait a few minutes and try again."


def discount_code_rate_limit(request: HttpRequest) -> int | None:
    """Count one code tried by this client; None if allowed, else the seconds to wait (Retry-After)."""
    limit = settings.DISCOUNT_CODE_RATE_LIMIT_PER_IP
    if limit <= 0:
        return None
    result = rate_limit_hit(
        scope="discount-code",
        key=ip_bucket(client_ip(request)),
        limit=limit,
        window=settings.CHECKOUT_RATE_LIMIT_WINDOW,
    )
    return None if result.allowed else result.retry_after
