"""Reads of a shopper's cart. None of them creates a session or a cart: a
visitor who only browses costs no rows."""

from dataclasses import dataclass, field

from django.db.models import Sum
from django.utils import timezone

from shop.cart.exceptions import BookNotForSale, CurrencyMismatch
from shop.cart.models import Cart, CartLine
from shop.cart.pricing import Totals, totals_compute
from shop.catalog.exceptions import OutOfStock
from shop.catalog.models import Book


@dataclass(frozen=True)
class CartSummaryLine:
    book: Book
    quantity: int
    line_amount: int
    problem: str = ""  # why this line cannot be bought as it is ("Only 2 copies left.")

    @property
    def unit_amount(self) -> int:
        return self.book.price_amount


@dataclass(frozen=True)
class CartSummary:
    cart_id: int | None
    lines: list[CartSummaryLine]
    currency: str  # "" for an empty cart
    totals: Totals
    item_count: int
    problems: list[str] = field(default_factory=list)

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


def cart_get_for_session(*, session_key: str | None) -> Cart | None:
    """The cart of this (unexpired) session, or None; never creates one."""
    if not session_key:
        return None
    return Cart.objects.filter(session_id=session_key, session__expire_date__gt=timezone.now()).first()


def cart_item_count_for_session(*, session_key: str | None) -> int:
    """Copies in this session's cart: one query, none without a session."""
    if not session_key:
        return 0
    lines = CartLine.objects.filter(
        cart__session_id=session_key, cart__session__expire_date__gt=timezone.now()
    )
    return lines.aggregate(copies=Sum("quantity"))["copies"] or 0


def cart_summary(*, cart: Cart | None) -> CartSummary:
    """Lines with their books, totals and what stands in the way of checking out: one query."""
    lines = list(cart.lines.select_related("book")) if cart else []
    currency = lines[0].book.currency if lines else ""
    summary_lines = [
        CartSummaryLine(
            book=line.book,
            quantity=line.quantity,
            line_amount=line.book.price_amount * line.quantity,
            problem=_line_problem(line, currency=currency),
        )
        for line in lines
    ]
    return CartSummary(
        cart_id=cart.id if cart else None,
        lines=summary_lines,
        currency=currency,
        totals=totals_compute(lines=[(line.unit_amount, line.quantity) for line in summary_lines]),
        item_count=sum(line.quantity for line in summary_lines),
        problems=[line.problem for line in summary_lines if line.problem],
    )


def _line_problem(line: CartLine, *, currency: str) -> str:
    """Things that changed since the book was added: it was withdrawn, sold, or repriced abroad."""
    book = line.book
    if not book.is_active:
        return BookNotForSale(book.title).message
    if line.quantity > book.stock:
        return OutOfStock(book, available=book.stock).message
    if book.currency != currency:
        return CurrencyMismatch(book.title).message
    return ""
