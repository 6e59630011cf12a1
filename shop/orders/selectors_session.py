"""Reads about the orders of one shopper session (the ids the session remembers)."""

from collections.abc import Iterable

from shop.catalog.models import Book
from shop.orders.models import Order, OrderStatus

# The shopper has this book: paid, even if part of it was refunded since.
BOUGHT_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


def order_bought_in_session(*, order_ids: Iterable[int], book: Book) -> Order | None:
    """The latest of these orders that paid for `book`, if any."""
    return (
        Order.objects.filter(pk__in=list(order_ids), status__in=BOUGHT_STATUSES, items__book=book)
        .order_by("-paid_at", "-pk")
        .first()
    )
