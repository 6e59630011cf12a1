"""Find my orders: `GET /orders/` asks for an email address, `POST` sends that address its orders' links.

A valid address gets the same page, status and work whether or not it placed
orders (the lookup happens in the background task, shop/orders/order_list.py),
and whether or not its one email per 10 minutes was already sent: the page
tells a stranger nothing about anyone's orders. Bad input is the form again
with one clear error (400).

Rate limited (core/ratelimit.py) within CHECKOUT_RATE_LIMIT_WINDOW: every POST
per client address (FIND_ORDERS_RATE_LIMIT_PER_IP, checked first, bad input
counted too), then each valid request per email address, compared
case-insensitively (FIND_ORDERS_RATE_LIMIT_PER_EMAIL). Over either: 429 with
Retry-After. 0 turns a limit off. Plain HTML form: works without JavaScript.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.ratelimit import RateLimitResult, client_ip, ip_bucket, rate_limit_hit
from shop.orders.forms import FindOrdersForm
from shop.orders.order_list import COOLDOWN, email_normalised
from shop.orders.tasks import order_list_email_queue

logger = logging.getLogger(__name__)

RATE_LIMIT_MESSAGE = "Too many requests to find orders. Please wait a few minutes and try again."


def _refusal(*, scope: str, key: str, limit: int) -> RateLimitResult | None:
    """The refusal if `key` is over `limit` in this window (this request counted), else None."""
    if limit <= 0:
        return None
    result = rate_limit_hit(scope=scope, key=key, limit=limit, window=settings.CHECKOUT_RATE_LIMIT_WINDOW)
    if result.allowed:
        return None
    if result.count == limit + 1:  # log once per window, not on every refused request
        logger.warning("find_orders_rate_limited", extra={"scope": scope, "limit": limit})
    return result


def _too_many(request: HttpRequest, refusal: RateLimitResult) -> HttpResponse:
    response = render(request, "orders/rate_limited.html", {"message": RATE_LIMIT_MESSAGE}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def _page(
    request: HttpRequest, form: FindOrdersForm, *, status: int = 200, sent_to: str = ""
) -> HttpResponse:
    context = {"form": form, "sent_to": sent_to, "cooldown_minutes": int(COOLDOWN.total_seconds() // 60)}
    return render(request, "orders/find.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def orders_find(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, FindOrdersForm())
    refusal = _refusal(
        scope="find_orders_ip",
        key=ip_bucket(client_ip(request)),
        limit=settings.FIND_ORDERS_RATE_LIMIT_PER_IP,
    )
    if refusal is not None:
        return _too_many(request, refusal)
    form = FindOrdersForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    email = form.cleaned_data["email"]
    refusal = _refusal(
        scope="find_orders_email",
        key=email_normalised(email),
        limit=settings.FIND_ORDERS_RATE_LIMIT_PER_EMAIL,
    )
    if refusal is not None:
        return _too_many(request, refusal)
    order_list_email_queue(email=email)  # False within the cooldown: the page says the same
    return _page(request, form, sent_to=email)
