"""The shopper's order page and receipt: `/orders/<number>/?key=<access key>` (no account needed).

Whoever holds the link sees the order (shop/orders/access.py). A wrong,
missing or other order's key gets the same 404 as an order that does not
exist, so the page tells a stranger nothing, not even whether the number is
real. Loads with a wrong or missing key are guesses, counted per client
address (ORDER_PAGE_RATE_LIMIT_PER_IP); a client over the limit gets 429 for
every load, its key unchecked, until the window ends. The pages are never
cached, never indexed, and send no Referer (the tracking link goes to a
carrier's site: the key must not travel with it).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.ratelimit import RateLimitResult, client_ip, ip_bucket, rate_limit_hit, rate_limit_peek
from shop.orders.access import order_access_key_valid, order_page_path, order_receipt_path
from shop.orders.models import Order
from shop.orders.selectors import order_get_by_number
from shop.orders.timeline import order_timeline

RATE_LIMIT_SCOPE = "order_page"
RATE_LIMIT_MESSAGE = "Too many requests for order pages. Please wait a few minutes and try again."


class _NotShown(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _order_for_visitor(request: HttpRequest, number: str) -> Order:
    key_opens = order_access_key_valid(number=number, key=request.GET.get("key", ""))
    limited = _guess_refused(request, key_opens=key_opens)
    if limited is not None:
        response = render(request, "orders/rate_limited.html", {"message": RATE_LIMIT_MESSAGE}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        raise _NotShown(response)
    order = order_get_by_number(number=number) if key_opens else None
    if order is None:
        raise _NotShown(render(request, "orders/not_found.html", status=404))
    return order


def _guess_refused(request: HttpRequest, *, key_opens: bool) -> RateLimitResult | None:
    """The refusal if this client is over the limit; a guess (a wrong or missing key) is counted.

    A right key is no guess: it costs no count, so a shopper reloading their
    order page never meets the limit, but it is refused too while the client
    is over, so the limit caps the keys one address can try in a window.
    """
    limit = settings.ORDER_PAGE_RATE_LIMIT_PER_IP
    if limit <= 0:
        return None
    count = rate_limit_peek if key_opens else rate_limit_hit
    result = count(
        scope=RATE_LIMIT_SCOPE,
        key=ip_bucket(client_ip(request)),
        limit=limit,
        window=settings.CHECKOUT_RATE_LIMIT_WINDOW,
    )
    return None if result.allowed else result


def _context(order: Order) -> dict:
    items = list(order.items.select_related("book"))
    items_amount = sum(item.line_amount for item in items)
    return {
        "order": order,
        "items": items,
        "items_amount": items_amount,
        "shipping_amount": order.shipping_amount,
        # A failed order is paid again from the cart's checkout, or a "buy now" from its book's.
        "retry_cart": order.is_payable and order.cart_id is not None,
        "retry_book": items[0].book if order.is_payable and order.cart_id is None and items else None,
        "timeline": order_timeline(order=order),
        "order_path": order_page_path(number=order.number),
        "receipt_path": order_receipt_path(number=order.number),
        "shop_address": [line.strip() for line in settings.SHOP_ADDRESS.split("|") if line.strip()],
    }


@never_cache
@require_safe
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = _order_for_visitor(request, number)
    except _NotShown as refusal:
        return _private(refusal.response)
    return _private(render(request, "orders/order_detail.html", _context(order)))


@never_cache
@require_safe
def order_receipt(request: HttpRequest, number: str) -> HttpResponse:
    """The receipt alone, laid out for printing or saving as a PDF from the browser."""
    try:
        order = _order_for_visitor(request, number)
    except _NotShown as refusal:
        return _private(refusal.response)
    return _private(render(request, "orders/receipt.html", _context(order)))
