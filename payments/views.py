"""Checkout page, intent creation, success page and the Stripe webhook.

Views parse and answer; the work is in `payments/services/`.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.csrf import csrf_failure as default_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_POST, require_safe

from core.money import format_money
from core.ratelimit import client_ip, ip_bucket
from payments.csp import stripe_js_allowed
from payments.exceptions import (
    CheckoutUnavailable,
    PaymentError,
    PaymentRejected,
    StripeNotConfigured,
    TotalChanged,
)
from payments.forms import BuyNowForm, CheckoutDiscountForm, CreateIntentForm
from payments.json_body import JsonBodyRejected, json_body_parse, request_body_read
from payments.ratelimit import (
    RATE_LIMIT_MESSAGE,
    SUCCESS_PAGE_RATE_LIMIT_MESSAGE,
    checkout_rate_limit,
    success_page_rate_limit,
)
from payments.services.confirmation import (
    OUTCOME_UNCHECKED_MESSAGE,
    ConfirmationNotFound,
    confirmation_load,
    confirmation_order,
)
from payments.services.intents import (
    CheckoutRequest,
    PaymentOutcome,
    checkout_cart_summary,
    checkout_holds_copy,
    checkout_key_for,
    checkout_start,
)
from payments.services.webhooks import WebhookRejected, stripe_event_receive, stripe_event_verify
from payments.stripe_client import missing_stripe_settings
from shop.cart.exceptions import CartError
from shop.cart.pricing import Totals, totals_compute, totals_with_code
from shop.cart.selectors import CartSummaryLine
from shop.cart.services import cart_voucher_apply, cart_voucher_remove
from shop.catalog.exceptions import OutOfStock
from shop.catalog.models import Book
from shop.catalog.selectors import book_get_active
from shop.orders.selectors import order_bought_in_session
from shop.orders.services import UnpaidCopiesLimit
from shop.vouchers.exceptions import VoucherRefused
from shop.vouchers.ratelimit import RATE_LIMIT_MESSAGE as DISCOUNT_RATE_LIMIT_MESSAGE
from shop.vouchers.ratelimit import discount_code_rate_limit

logger = logging.getLogger(__name__)

SESSION_ORDER_IDS = "order_ids"
STRIPE_JS_URL = "https://js.stripe.com/v3/"
CREATE_INTENT_MAX_BYTES = 16 * 1024  # {"book", "email"} is under 400 bytes
WEBHOOK_MAX_BYTES = 512 * 1024  # Stripe's events are a few KB
CONFIRMING_REFRESH_SECONDS = 5  # the success page while Stripe cannot say how the payment went


def json_error(message: str, status: int, **headers: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers)


def session_order_ids(request: HttpRequest) -> list[int]:
    return list(request.session.get(SESSION_ORDER_IDS, []))


def session_remember_order(request: HttpRequest, order_id: int) -> None:
    ids = session_order_ids(request)
    if order_id not in ids:
        request.session[SESSION_ORDER_IDS] = (ids + [order_id])[-20:]


def success_url(payment_intent_id: str) -> str:
    return f"{reverse('payments:success')}?{urlencode({'payment_intent': payment_intent_id})}"


def _checkout_config(
    request: HttpRequest, *, book_slug: str | None, totals: Totals, currency: str, quantity: int = 1
) -> dict:
    return {
        "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
        "book": book_slug,
        "quantity": quantity,
        "amount": totals.total_amount,
        "expectedTotal": totals.total_amount,
        "voucherCode": totals.voucher_code,
        "currency": currency,
        "shippingCountries": settings.SHIPPING_COUNTRIES,
        "createIntentUrl": reverse("payments:create_intent"),
        "discountUrl": reverse("payments:checkout_discount"),
        "cartUrl": reverse("cart:page"),
        "returnUrl": request.build_absolute_uri(reverse("payments:success")),
    }


def _checkout_context(context: dict) -> dict:
    """The checkout page's context: `context` and whether Stripe is set up.

    Opening a checkout page starts no session (a visitor who only looks writes
    nothing): the first payment attempt does (create_intent).
    """
    missing = missing_stripe_settings()
    if missing:
        logger.error("checkout_unavailable", extra={"missing_settings": ",".join(missing)})
    return context | {
        "payments_ready": not missing,
        "stripe_js_url": STRIPE_JS_URL,
        "stripe_api_base": settings.STRIPE_API_BASE if settings.STRIPE_OFFLINE_MODE else "",
    }


@never_cache  # no-store: Back after paying asks the server again, never a cached, payable page
@stripe_js_allowed
@ensure_csrf_cookie
@require_safe
def checkout_page(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Buy this book now": `?quantity=` copies (1 when not given) of one book, the cart untouched."""
    chosen = BuyNowForm(request.GET)
    if not chosen.is_valid():
        return HttpResponseBadRequest(chosen.errors["quantity"][0])
    quantity = chosen.cleaned_data["quantity"]
    book = book_get_active(slug=slug)
    # Sold out, unless this visitor's own unpaid order holds the copy (after a declined card).
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    sold_out = book.is_sold_out and not checkout_holds_copy(session_key, book=book)
    totals = totals_compute(lines=[(book.price_amount, quantity)])
    context = {
        "book": book,
        "sold_out": sold_out,
        "lines": [CartSummaryLine(book=book, quantity=quantity, line_amount=book.price_amount * quantity)],
        "totals": totals,
        "currency": book.currency,
        "back_url": book.get_absolute_url(),
        "back_label": f"Back to {book.title}",
        "checkout_config": _checkout_config(
            request, book_slug=book.slug, totals=totals, currency=book.currency, quantity=quantity
        ),
    }
    return render(
        request, "payments/checkout.html", _checkout_context(context | _already_bought(request, book))
    )


def _already_bought(request: HttpRequest, book: Book) -> dict:
    """Paid already in this session (Back from the success page): say so before selling it again.

    Without a session cookie there is nothing to look up (and no session is loaded).
    """
    order_ids = session_order_ids(request) if settings.SESSION_COOKIE_NAME in request.COOKIES else []
    bought = order_bought_in_session(order_ids=order_ids, book=book) if order_ids else None
    return {"bought_order": bought, "bought_url": success_url(bought.payment_intent_id) if bought else ""}


@never_cache
@stripe_js_allowed
@ensure_csrf_cookie
@require_safe
def cart_checkout_page(request: HttpRequest) -> HttpResponse:
    """Checkout of the shopper's cart; back to the cart while it is empty or has a problem."""
    summary = checkout_cart_summary(session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    if not summary.can_check_out:
        return redirect("cart:page")
    context = {
        "book": None,
        "lines": summary.lines,
        "totals": summary.totals,
        "currency": summary.currency,
        "back_url": reverse("cart:page"),
        "back_label": "Back to your cart",
        "voucher_problem": summary.voucher_problem,
        "checkout_config": _checkout_config(
            request, book_slug=None, totals=summary.totals, currency=summary.currency
        ),
    }
    return render(request, "payments/checkout.html", _checkout_context(context))


@require_POST
def buy_now(request: HttpRequest, slug: str) -> HttpResponse:
    """The book page's Buy button (in its add-to-cart form, so it sends the quantity chosen there):
    to the checkout of that many copies. A quantity out of range: 400 with the reason."""
    chosen = BuyNowForm(request.POST)
    if not chosen.is_valid():
        return HttpResponseBadRequest(chosen.errors["quantity"][0])
    quantity = chosen.cleaned_data["quantity"]
    url = reverse("payments:checkout", args=[slug])
    return redirect(url if quantity == 1 else f"{url}?{urlencode({'quantity': quantity})}")


def _checkout_lines(request: HttpRequest, *, slug: str, quantity: int = 1) -> tuple[list, str, int | None]:
    """(lines, checkout key, cart id) for the book named, or the session's cart.

    Raises Http404 (unknown book), CheckoutUnavailable (empty cart) or
    TotalChanged (a line cannot be bought as it is: sold out, withdrawn).
    """
    session_key = request.session.session_key
    if slug:
        book = book_get_active(slug=slug)
        return [(book, quantity)], checkout_key_for(session_key=session_key, book=book), None
    summary = checkout_cart_summary(session_key=session_key)
    if summary.is_empty:
        raise CheckoutUnavailable("Your cart is empty. Add a book to it first.")
    if summary.problems:
        raise TotalChanged(total=summary.total_amount, currency=summary.currency, message=summary.problems[0])
    lines = [(line.book, line.quantity) for line in summary.lines]
    return lines, checkout_key_for(session_key=session_key), summary.cart_id


def pricing_json(totals: Totals, currency: str) -> dict:
    """The summary's figures as the checkout script shows them."""
    shipping = format_money(totals.shipping_amount, currency) if totals.shipping_amount else "Free"
    discount = f"−{format_money(totals.discount_amount, currency)}" if totals.discount_amount else ""
    return {
        "total": totals.total_amount,
        "totalDisplay": format_money(totals.total_amount, currency),
        "subtotalDisplay": format_money(totals.subtotal_amount, currency),
        "shippingDisplay": shipping,
        "discount": totals.discount_amount,
        "discountDisplay": discount,
        "voucherCode": totals.voucher_code,
    }


def _plain_totals(lines: list) -> Totals:
    return totals_compute(lines=[(book.price_amount, quantity) for book, quantity in lines])


def voucher_refused_json(refused: VoucherRefused, *, lines: list) -> JsonResponse:
    """409: the code was not applied; the figures without it, and which field to fix."""
    body = {"error": refused.message, "field": "voucher_code", "voucherRefused": True}
    return JsonResponse(body | pricing_json(_plain_totals(lines), lines[0][0].currency), status=409)


@never_cache
def checkout_discount(request: HttpRequest) -> JsonResponse:
    """POST {"voucher_code", "book"?} -> the checkout's figures with that code; "" takes the code off.

    Without "book" it prices the session's cart, whose code it keeps (the cart
    page shows it too). 409 {"error", "voucherRefused"} with the figures
    without the code when it cannot be used; 400 when it is not a code at all.
    """
    if request.method != "POST":
        return json_error("Use POST to apply a discount code.", 405, Allow="POST")
    if request.content_type not in ("application/json", ""):
        return json_error("Send the request as JSON (Content-Type: application/json).", 415)
    try:
        data = json_body_parse(
            request_body_read(request, max_bytes=CREATE_INTENT_MAX_BYTES), max_bytes=CREATE_INTENT_MAX_BYTES
        )
    except JsonBodyRejected as exc:
        return json_error(str(exc), 400)
    form = CheckoutDiscountForm.from_json(data if isinstance(data, dict) else {})
    if form.is_valid() and form.cleaned_data["voucher_code"]:
        retry_after = discount_code_rate_limit(request)
        if retry_after is not None:
            return json_error(DISCOUNT_RATE_LIMIT_MESSAGE, 429, **{"Retry-After": str(retry_after)})
    if not form.is_valid():
        message, field = form.first_error()
        return JsonResponse({"error": message, "field": field}, status=400)
    code, slug = form.cleaned_data["voucher_code"], form.cleaned_data["book"]
    try:
        lines, _, _ = _checkout_lines(request, slug=slug)
    except Http404:
        return json_error("This book is not available.", 404)
    except (CheckoutUnavailable, TotalChanged) as exc:
        return json_error(exc.message, 409)
    currency = lines[0][0].currency
    try:
        if slug:
            totals = totals_with_code(lines=_plain_lines(lines), currency=currency, code=code)
        elif code:
            totals = cart_voucher_apply(session_key=request.session.session_key, code=code)
        else:
            cart_voucher_remove(session_key=request.session.session_key)
            totals = _plain_totals(lines)
    except VoucherRefused as refused:
        return voucher_refused_json(refused, lines=lines)
    except CartError as exc:
        return json_error(exc.message, 409)
    return JsonResponse(pricing_json(totals, currency))


def _plain_lines(lines: list) -> list[tuple[int, int]]:
    return [(book.price_amount, quantity) for book, quantity in lines]


@never_cache
def create_intent(request: HttpRequest) -> JsonResponse:
    """POST {"email", "shipping", "expected_total", "book"?, "quantity"?, "voucher_code"?}: a PaymentIntent.

    Without "book" it checks out the session's cart. 409 {"error", "total"}:
    the total changed, copies ran short or the discount code cannot be used
    ("voucherRefused"); nothing was sent to Stripe. Other errors are 4xx/5xx.
    """
    if request.method != "POST":
        return json_error("Use POST to start a payment.", 405, Allow="POST")
    # A form's body was read (and is gone) by the CSRF check: only JSON, or no body type at all.
    if request.content_type not in ("application/json", ""):
        return json_error("Send the request as JSON (Content-Type: application/json).", 415)
    retry_after = checkout_rate_limit(request)
    if retry_after is not None:
        return json_error(RATE_LIMIT_MESSAGE, 429, **{"Retry-After": str(retry_after)})
    try:
        data = json_body_parse(
            request_body_read(request, max_bytes=CREATE_INTENT_MAX_BYTES), max_bytes=CREATE_INTENT_MAX_BYTES
        )
    except JsonBodyRejected as exc:
        return json_error(str(exc), 400)
    if not isinstance(data, dict):
        return json_error("The request body must be a JSON object.", 400)
    form = CreateIntentForm.from_json(data)
    if not form.is_valid():
        message, field = form.first_error()
        return JsonResponse({"error": message, "field": field}, status=400)
    if not request.session.session_key:
        # The checkout key is the session's. Django sends no session cookie with a
        # 5xx, so a new visitor's retry after a Stripe outage opens a fresh order;
        # sync_payments cancels the first one once its copies have been held
        # STOCK_RESERVATION_MINUTES, and gives them back.
        request.session.save()
    try:
        book, quantity = form.cleaned_data["book"], form.cleaned_data["quantity"]
        lines, key, cart_id = _checkout_lines(request, slug=book, quantity=quantity)
        checkout = CheckoutRequest(
            lines=lines,
            email=form.cleaned_data["email"],
            shipping=form.shipping(),
            expected_total=form.cleaned_data["expected_total"],
            checkout_key=key,
            cart_id=cart_id,
            client_address=ip_bucket(client_ip(request)),
            voucher_code=form.cleaned_data["voucher_code"],
        )
        order, client_secret = checkout_start(request=checkout)
    except Http404:
        return json_error("This book is not available.", 404)
    except TotalChanged as exc:
        discount = f"−{format_money(exc.discount, exc.currency)}" if exc.discount else ""
        return JsonResponse(
            {
                "error": exc.message,
                "total": exc.total,
                "totalDisplay": format_money(exc.total, exc.currency),
                "discount": exc.discount,
                "discountDisplay": discount,
                "voucherCode": exc.voucher_code,
            },
            status=409,
        )
    except VoucherRefused as refused:
        return voucher_refused_json(refused, lines=checkout.lines)
    except OutOfStock as exc:
        return JsonResponse(
            {"error": exc.message, "total": form.cleaned_data["expected_total"], "outOfStock": True},
            status=409,
        )
    except UnpaidCopiesLimit as exc:
        retry_after = str(settings.STOCK_RESERVATION_MINUTES * 60)
        return JsonResponse(
            {"error": exc.message, "limit": exc.limit}, status=429, headers={"Retry-After": retry_after}
        )
    except CheckoutUnavailable as exc:
        return json_error(exc.message, 409)
    except StripeNotConfigured as exc:
        return json_error(exc.message, 503)
    except PaymentError as exc:
        logger.warning("create_intent_failed", extra={"error": type(exc).__name__})
        status = 502 if isinstance(exc, PaymentRejected) else 503
        return json_error(exc.message, status)
    session_remember_order(request, order.pk)
    return JsonResponse({"clientSecret": client_secret, "orderNumber": order.number})


@never_cache
@require_safe
def payment_success(request: HttpRequest) -> HttpResponse:
    """Outcome of a payment, from server-side truth; details only for the payer."""
    retry_after = success_page_rate_limit(request)
    if retry_after is not None:
        context = {"message": SUCCESS_PAGE_RATE_LIMIT_MESSAGE}
        response = render(request, "payments/unavailable.html", context, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    payment_intent_id = request.GET.get("payment_intent", "")
    client_secret = request.GET.get("payment_intent_client_secret", "")
    owned = session_order_ids(request)
    try:
        order = confirmation_order(
            payment_intent_id=payment_intent_id, client_secret=client_secret, owned_order_ids=owned
        )
        confirmation = confirmation_load(order=order, client_secret=client_secret, owned_order_ids=owned)
    except ConfirmationNotFound:
        return render(request, "payments/not_found.html", status=404)
    except PaymentError as exc:
        logger.warning(
            "success_page_unavailable",
            extra={"payment_intent": payment_intent_id, "error": type(exc).__name__},
        )
        # Never the provider error's own text: whether anything was charged is not known here.
        return render(
            request, "payments/unavailable.html", {"message": OUTCOME_UNCHECKED_MESSAGE}, status=503
        )
    session_remember_order(request, confirmation.order.pk)
    book = confirmation.order.items.select_related("book").first()
    response = render(
        request,
        "payments/success.html",
        {
            "confirmation": confirmation,
            "outcomes": PaymentOutcome,
            "order": confirmation.order,
            "retry_book": book.book if book else None,
        },
    )
    if confirmation.confirming:  # the browser asks again shortly (no script needed)
        response["Refresh"] = str(CONFIRMING_REFRESH_SECONDS)
    return response


@csrf_exempt
@transaction.non_atomic_requests  # its own transaction: 200 only once the event is committed
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries. 400: not genuine; 200: stored and queued (or a duplicate); 500: not stored."""
    if request.method != "POST":
        return json_error("Webhooks are POSTed by Stripe.", 405, Allow="POST")
    try:
        event = stripe_event_verify(
            payload=request_body_read(request, max_bytes=WEBHOOK_MAX_BYTES),
            signature=request.headers.get("Stripe-Signature", ""),
        )
    except (WebhookRejected, JsonBodyRejected) as exc:
        logger.warning("webhook_rejected", extra={"reason": str(exc)})
        return json_error(str(exc), 400)
    try:
        outcome = stripe_event_receive(event=event)
    except Exception:  # the database failed: not acknowledged, so Stripe redelivers
        logger.exception("webhook_not_stored", extra={"event_id": event["id"]})
        return json_error("The event could not be stored; it will be retried.", 500)
    return JsonResponse({"received": True, "outcome": outcome})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """JSON for the checkout's fetch() calls, Django's page for forms."""
    if request.path.startswith("/payments/"):
        return json_error("Your session expired. Reload the page and try again.", 403)
    return default_csrf_failure(request, reason=reason)
