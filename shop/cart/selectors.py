"""Reads of a shopper's cart. None of them creates a session or a cart: a
visitor who only browses costs no rows."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.contrib.sessions.models import Session
from django.db import connection
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
    # The price when the shopper added or last changed the line, when it is not the price now.
    previous_unit_amount: int | None = None

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


@dataclass(frozen=True)
class CartState:
    """What identifies a cart's contents right now: pages kept for it are keyed by this."""

    cart_id: int | None = None  # None: no cart (no session, an expired one, or none made yet)
    revision: int = 0
    item_count: int = 0
    # When the cart's session expires (None: no cart): not part of what the pages show.
    session_expires: datetime | None = field(default=None, compare=False)


NO_CART = CartState()


def cart_state_for_session(*, session_key: str | None) -> CartState:
    """The cart of this (unexpired) session, its revision and its copies: one query, none without a session.

    Never creates a session or a cart. It runs on every page a shopper with a
    cart opens (the header shows the count), so its SQL is written out: the
    ORM's compiling of the same query cost about four times its round trip.
    """
    if not session_key:
        return NO_CART
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_CART_STATE_SQL, [session_key, now])
        row = cursor.fetchone()
    if not row:
        return NO_CART
    *counts, expires = row
    return CartState(*counts, session_expires=_aware(expires))


def _aware(value) -> datetime:
    """A datetime column read by raw SQL as the ORM would give it (SQLite's backend returns text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


# The count as a subquery rather than a join and GROUP BY: PostgreSQL plans it
# in about two thirds of the time (planning is most of this query's cost).
_CART_STATE_SQL = f"""
    SELECT cart.id, cart.revision,
        (SELECT COALESCE(SUM(line.quantity), 0) FROM {CartLine._meta.db_table} line
            WHERE line.cart_id = cart.id),
        session.expire_date
    FROM {Cart._meta.db_table} cart
    JOIN {Session._meta.db_table} session ON session.session_key = cart.session_id
    WHERE cart.session_id = %s AND session.expire_date > %s
"""


def cart_summary(*, cart_id: int | None) -> CartSummary:
    """Lines with their books, totals and what stands in the way of checking out: one query."""
    lines = list(CartLine.objects.filter(cart_id=cart_id).select_related("book")) if cart_id else []
    currency = lines[0].book.currency if lines else ""
    summary_lines = [
        CartSummaryLine(
            book=line.book,
            quantity=line.quantity,
            line_amount=line.book.price_amount * line.quantity,
            problem=_line_problem(line, currency=currency),
            previous_unit_amount=_price_before(line),
        )
        for line in lines
    ]
    return CartSummary(
        cart_id=cart_id,
        lines=summary_lines,
        currency=currency,
        totals=totals_compute(lines=[(line.unit_amount, line.quantity) for line in summary_lines]),
        item_count=sum(line.quantity for line in summary_lines),
        problems=[line.problem for line in summary_lines if line.problem],
    )


def _price_before(line: CartLine) -> int | None:
    seen = line.unit_amount_seen
    return seen if seen is not None and seen != line.book.price_amount else None


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
