"""Reads of a shopper's cart. None of them creates a session or a cart: a
visitor who only browses costs no rows.

The cart's discount code is priced anew on every read: a code that has
expired or fallen under its minimum since it was applied stays on the cart
but takes nothing off, and the summary says why (`voucher_problem`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import QuerySet, Sum
from django.utils import timezone

from shop.cart.exceptions import BookNotForSale, CurrencyMismatch
from shop.cart.models import CartLine
from shop.cart.pricing import Totals, totals_compute, totals_with_code
from shop.catalog.exceptions import OutOfStock
from shop.catalog.models import Book
from shop.vouchers.exceptions import VoucherRefused


@dataclass(frozen=True)
class CartSummaryLine:
    book: Book
    quantity: int
    line_amount: int
    problem: str = ""  # why this line cannot be bought as it is ("Only 2 copies left.")
    # The price when the shopper added or last changed the line, when it is not the price now.
    previous_unit_amount: int | None = None

    @property
    def unit_amount(self) -> int:
        return self.book.price_amount


@dataclass(frozen=True)
class CartSummary:
    cart_id: int | None  # None: no lines
    lines: list[CartSummaryLine]
    currency: str  # "" for an empty cart
    totals: Totals
    item_count: int
    problems: list[str] = field(default_factory=list)
    voucher_code: str = ""  # the code the shopper applied, whether it takes anything off or not
    voucher_problem: str = ""  # why that code takes nothing off now

    @property
    def prices_changed(self) -> bool:
        return any(line.previous_unit_amount is not None for line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def can_check_out(self) -> bool:
        return bool(self.lines) and not self.problems

    @property
    def subtotal_amount(self) -> int:
        return self.totals.subtotal_amount

    @property
    def shipping_amount(self) -> int:
        return self.totals.shipping_amount

    @property
    def total_amount(self) -> int:
        return self.totals.total_amount

    @property
    def discount_amount(self) -> int:
        return self.totals.discount_amount


def _live_lines(session_key: str) -> QuerySet[CartLine]:
    """The lines of this session's cart, if the session has not expired (its cookie may outlive it)."""
    return CartLine.objects.filter(
        cart__session_id=session_key, cart__session__expire_date__gt=timezone.now()
    )


def cart_item_count(*, session_key: str | None) -> int:
    """Copies in this (unexpired) session's cart: one query, none without a session."""
    if not session_key:
        return 0
    return _live_lines(session_key).aggregate(copies=Sum("quantity"))["copies"] or 0


def cart_summary(
    *, session_key: str | None, held: Mapping[int, int] | None = None, held_voucher_id: int | None = None
) -> CartSummary:
    """Lines with their books, totals and what stands in the way of checking out.

    One query, and one more to price a discount code when the cart has one.
    `held` ({book id: copies}) are copies off the shelf for this shopper already
    (their own unpaid order holds them): they count as there for this cart, as
    does the use of a discount code that order holds (`held_voucher_id`).
    """
    lines = list(_live_lines(session_key).select_related("book", "cart")) if session_key else []
    currency = lines[0].book.currency if lines else ""
    code = lines[0].cart.voucher_code if lines else ""
    held = held or {}
    summary_lines = [
        CartSummaryLine(
            book=line.book,
            quantity=line.quantity,
            line_amount=line.book.price_amount * line.quantity,
            problem=_line_problem(line, currency=currency, held=held.get(line.book_id, 0)),
            previous_unit_amount=_price_before(line),
        )
        for line in lines
    ]
    amounts = [(line.unit_amount, line.quantity) for line in summary_lines]
    voucher_problem = ""
    try:
        totals = totals_with_code(
            lines=amounts, currency=currency, code=code, held_voucher_id=held_voucher_id
        )
    except VoucherRefused as refused:
        totals, voucher_problem = totals_compute(lines=amounts), refused.message
    return CartSummary(
        cart_id=lines[0].cart_id if lines else None,
        lines=summary_lines,
        currency=currency,
        totals=totals,
        item_count=sum(line.quantity for line in summary_lines),
        problems=[line.problem for line in summary_lines if line.problem],
        voucher_code=code,
        voucher_problem=voucher_problem,
    )


def _price_before(line: CartLine) -> int | None:
    seen = line.unit_amount_seen
    return seen if seen is not None and seen != line.book.price_amount else None


def _line_problem(line: CartLine, *, currency: str, held: int = 0) -> str:
    """Things that changed since the book was added: it was withdrawn, sold, or repriced abroad."""
    book = line.book
    if not book.is_active:
        return BookNotForSale(book.title).message
    if line.quantity > book.stock + held:
        return OutOfStock(book, available=book.stock + held).message
    if book.currency != currency:
        return CurrencyMismatch(book.title).message
    return ""
