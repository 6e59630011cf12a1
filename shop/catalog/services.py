"""Stock changes, and the demo books.

Every stock change is a single conditional UPDATE, so two shoppers can never
both take the last copy and stock can never go below zero, whatever the
isolation level: PostgreSQL re-checks the WHERE clause on the row it locked.
A queryset update sends no signal, so each change moves the catalog version
on itself (once its transaction commits): the pages show the stock. The demo
books load only into an empty catalog (`catalog_load_demo_books`).
"""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import F

from shop.catalog.cache import catalog_changed
from shop.catalog.exceptions import CatalogNotEmpty, OutOfStock
from shop.catalog.models import Book


def book_stock_reserve(*, book_id: int, quantity: int) -> bool:
    """Take `quantity` copies of the book if that many are on hand; False (nothing taken) otherwise."""
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, not {quantity}")
    taken = Book.objects.filter(id=book_id, stock__gte=quantity).update(stock=F("stock") - quantity)
    if taken:
        catalog_changed()
    return taken == 1


def book_stock_release(*, book_id: int, quantity: int) -> None:
    """Put `quantity` copies back on hand (a canceled or abandoned order's reservation)."""
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, not {quantity}")
    Book.objects.filter(id=book_id).update(stock=F("stock") + quantity)
    catalog_changed()


def book_stock_reserve_lines(*, quantities: Mapping[int, int]) -> None:
    """Take every line's copies ({book id: quantity}), or none of them.

    Raises OutOfStock for the first line that is short (the book and how many
    copies are left); the copies taken for earlier lines are given back by the
    rollback. Rows are locked in book id order, so two orders sharing books
    wait for each other instead of deadlocking.
    """
    with transaction.atomic():
        for book_id in sorted(quantities):
            if not book_stock_reserve(book_id=book_id, quantity=quantities[book_id]):
                book = Book.objects.get(id=book_id)
                raise OutOfStock(book, available=book.stock)


def catalog_load_demo_books() -> int:
    """Load the shop's three books, with their covers, into an empty catalog; how many were loaded.

    Raises CatalogNotEmpty, loading nothing, when any book exists: a live
    catalog's prices and stock are staff's, never the demo's.
    """
    from shop.catalog.seed import shop_books_seed  # it imports the covers' image code: only when loading

    with transaction.atomic():
        count = Book.objects.count()
        if count:
            raise CatalogNotEmpty(count)
        loaded = shop_books_seed()
    catalog_changed()
    return loaded
