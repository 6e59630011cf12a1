"""Changes to a shopper's cart. Each runs in one transaction with the cart row
locked, so a double click or two tabs cannot slip past the limits; a refused
change leaves everything (even a cart about to be created) as it was.

Stock is checked, not reserved: copies are taken when the order's payment
starts (shop.catalog.services.book_stock_reserve_lines). Likewise a discount
code is checked when applied, and a use of it taken only when the payment starts.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from shop.cart.exceptions import (
    BookNotForSale,
    CartEmpty,
    CurrencyMismatch,
    QuantityNotAllowed,
    TooManyLines,
)
from shop.cart.models import MAX_COPIES_PER_BOOK, MAX_LINES, Cart, CartLine
from shop.cart.pricing import Totals, totals_with_code
from shop.catalog.exceptions import OutOfStock
from shop.catalog.models import Book
from shop.vouchers.pricing import voucher_code_normalize


def cart_add_book(*, session_key: str, book_id: int, quantity: int) -> CartLine:
    """Add `quantity` copies to what the cart already holds of the book."""
    with transaction.atomic():
        book = _book_for_sale(book_id=book_id)
        cart = _cart_locked(session_key=session_key)
        line = cart.lines.filter(book=book).first()
        in_cart = line.quantity if line else 0
        if quantity < 1 or in_cart + quantity > MAX_COPIES_PER_BOOK:
            raise QuantityNotAllowed(book.title, in_cart=in_cart)
        return _line_save(cart=cart, book=book, line=line, quantity=in_cart + quantity)


def cart_set_quantity(*, session_key: str, book_id: int, quantity: int) -> CartLine | None:
    """Make the cart hold exactly `quantity` copies of the book; 0 removes it (None returned)."""
    if quantity == 0:
        with transaction.atomic():
            removed, _ = CartLine.objects.filter(cart__session_id=session_key, book_id=book_id).delete()
            if removed:
                _touch(Cart.objects.filter(session_id=session_key))
        return None
    with transaction.atomic():
        book = _book_for_sale(book_id=book_id)
        if not 1 <= quantity <= MAX_COPIES_PER_BOOK:
            raise QuantityNotAllowed(book.title)
        cart = _cart_locked(session_key=session_key)
        line = cart.lines.filter(book=book).first()
        return _line_save(cart=cart, book=book, line=line, quantity=quantity)


def cart_clear(*, cart_id: int) -> None:
    """Empty the cart and forget its discount code (its order was paid)."""
    with transaction.atomic():
        CartLine.objects.filter(cart_id=cart_id).delete()
        Cart.objects.filter(id=cart_id).update(voucher_code="", updated_at=timezone.now())


def cart_voucher_apply(*, session_key: str, code: str) -> Totals:
    """Apply a discount code to the session's cart; its totals with the code.

    Raises VoucherRefused (not a code, unknown, expired, under its minimum…)
    or CartEmpty, leaving the cart's code as it was.
    """
    normalized = voucher_code_normalize(code)
    with transaction.atomic():
        live = Cart.objects.filter(session_id=session_key, session__expire_date__gt=timezone.now())
        cart = live.select_for_update(of=("self",)).first()
        lines = list(cart.lines.select_related("book")) if cart else []
        if not lines:
            raise CartEmpty()
        amounts = [(line.book.price_amount, line.quantity) for line in lines]
        totals = totals_with_code(lines=amounts, currency=lines[0].book.currency, code=normalized)
        cart.voucher_code = totals.voucher_code
        cart.save(update_fields=["voucher_code", "updated_at"])
    return totals


def cart_voucher_remove(*, session_key: str) -> None:
    """Take the discount code off the session's cart (nothing to do without one)."""
    Cart.objects.filter(session_id=session_key).exclude(voucher_code="").update(
        voucher_code="", updated_at=timezone.now()
    )


def _book_for_sale(*, book_id: int) -> Book:
    book = Book.objects.filter(id=book_id).first()
    if book is None or not book.is_active:
        raise BookNotForSale(book.title if book else None)
    return book


def _cart_locked(*, session_key: str) -> Cart:
    cart, _ = Cart.objects.get_or_create(session_id=session_key)
    return Cart.objects.select_for_update().get(id=cart.id)


def _line_save(*, cart: Cart, book: Book, line: CartLine | None, quantity: int) -> CartLine:
    if quantity > book.stock:
        raise OutOfStock(book, available=book.stock)
    if line is None:
        others = list(cart.lines.values_list("book__currency", flat=True))
        if len(others) >= MAX_LINES:
            raise TooManyLines()
        if any(currency != book.currency for currency in others):
            raise CurrencyMismatch(book.title)
        line = CartLine(cart=cart, book=book)
    line.quantity = quantity
    line.unit_amount_seen = book.price_amount  # the price on the page the shopper acted on
    line.save()
    _touch(Cart.objects.filter(id=cart.id))
    return line


def _touch(carts: QuerySet[Cart]) -> None:
    """The cart changed: `updated_at` says when (a queryset update leaves auto_now alone)."""
    carts.update(updated_at=timezone.now())
