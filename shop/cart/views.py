"""The cart page and its form endpoints (plain HTML forms: the cart works without JavaScript).

A browser gets a redirect and a message; a client that does not ask for HTML
gets a 4xx JSON {"error": ...} when its change is refused.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.money import format_money
from shop.cart.exceptions import CartError
from shop.cart.forms import CartAddForm, CartUpdateForm, CartVoucherForm
from shop.cart.selectors import cart_summary
from shop.cart.services import cart_add_book, cart_set_quantity, cart_voucher_apply, cart_voucher_remove
from shop.catalog.exceptions import OutOfStock
from shop.vouchers.exceptions import VoucherRefused
from shop.vouchers.ratelimit import RATE_LIMIT_MESSAGE, discount_code_rate_limit

SESSION_HAS_CART = "has_cart"


@never_cache
@require_safe
def cart_page(request: HttpRequest) -> HttpResponse:
    # From the cookie's session key, unverified: only carts of live sessions are found.
    summary = cart_summary(session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    context = {"cart": summary, "free_shipping_from": settings.SHIPPING_FREE_FROM}
    return render(request, "cart/cart.html", context)


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = CartAddForm(request.POST)
    if not form.is_valid():
        return _refused(request, form.first_error(), status=400)
    book, quantity = form.cleaned_data["book"], form.cleaned_data["quantity"]
    session_key, created = _session_for_cart(request)
    try:
        cart_add_book(session_key=session_key, book_id=book.id, quantity=quantity)
    except (CartError, OutOfStock) as refusal:
        return _refused(request, refusal.message, status=409, forget_session=created)
    copies = "a copy" if quantity == 1 else f"{quantity} copies"
    # Tagged: shown on the page the shopper stays on, with a link to the cart.
    messages.success(request, f"Added {copies} of “{book.title}” to your cart.", extra_tags="added-to-cart")
    return _back(request, form)


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    form = CartUpdateForm(request.POST)
    if not form.is_valid():
        return _refused(request, form.first_error(), status=400)
    book, quantity = form.cleaned_data["book"], form.cleaned_data["quantity"]
    if quantity == 0:
        # Removing needs no session: a visitor without one has nothing to remove.
        cart_set_quantity(session_key=request.session.session_key or "", book_id=book.id, quantity=0)
        messages.success(request, f"Removed “{book.title}” from your cart.")
        return _back(request, form)
    session_key, created = _session_for_cart(request)
    try:
        cart_set_quantity(session_key=session_key, book_id=book.id, quantity=quantity)
    except (CartError, OutOfStock) as refusal:
        return _refused(request, refusal.message, status=409, forget_session=created)
    messages.success(request, f"Your cart now holds {quantity} of “{book.title}”.")
    return _back(request, form)


@require_POST
def cart_voucher(request: HttpRequest) -> HttpResponse:
    """Apply a discount code to the cart, or take it off (remove=1)."""
    form = CartVoucherForm(request.POST)
    if form.is_valid() and form.cleaned_data["remove"]:
        if request.session.session_key:
            cart_voucher_remove(session_key=request.session.session_key)
        messages.success(request, "The discount code was removed.")
        return _back(request, form)
    if not form.is_valid():
        return _refused(request, form.first_error(), status=400)
    retry_after = discount_code_rate_limit(request)
    if retry_after is not None:
        response = _refused(request, RATE_LIMIT_MESSAGE, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    try:
        totals = cart_voucher_apply(
            session_key=request.session.session_key or "", code=form.cleaned_data["code"]
        )
    except (CartError, VoucherRefused) as refusal:
        return _refused(request, refusal.message, status=409)
    off = format_money(totals.discount_amount, totals.voucher.currency)
    messages.success(request, f"The discount code {totals.voucher_code} takes {off} off your books.")
    return _back(request, form)


def _session_for_cart(request: HttpRequest) -> tuple[str, bool]:
    """The key of the session that owns the cart, and whether it was created just now.

    The first change to a cart is when a shopper gets a session (browsing
    creates none). Every change re-saves it, so the cart lives another
    SESSION_COOKIE_AGE from the shopper's last change.
    """
    session = request.session
    session[SESSION_HAS_CART] = True  # loads the session: a stale cookie's key is dropped here
    created = session.session_key is None
    if created:
        session.save()  # the cart row refers to the session row
    return session.session_key, created


def _refused(
    request: HttpRequest, message: str, *, status: int, forget_session: bool = False
) -> HttpResponse:
    if forget_session:
        request.session.flush()  # a refused first change leaves no session behind
    if "text/html" not in request.headers.get("Accept", ""):
        return JsonResponse({"error": message}, status=status)
    messages.error(request, message)
    return HttpResponseRedirect(reverse("cart:page"))


def _back(request: HttpRequest, form: CartAddForm) -> HttpResponse:
    target = form.cleaned_data.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(target if safe else reverse("cart:page"))
