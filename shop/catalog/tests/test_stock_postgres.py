"""Shoppers racing for the last copies, on PostgreSQL (row locks, one connection per thread)."""

import time

from django.db import transaction

from shop.catalog.exceptions import OutOfStock
from shop.catalog.models import Book
from shop.catalog.services import book_stock_reserve, book_stock_reserve_lines
from shop.catalog.tests.factories import BookFactory
from tests.postgres import postgres_only, run_at_once

SHOPPERS = 20


def reserve_then_linger(book_id: int, quantity: int):
    """Reserve inside a transaction that stays open a moment, as an order creation would:
    the others queue on the row lock and must re-check the stock they find after it."""

    def attempt() -> bool:
        with transaction.atomic():
            taken = book_stock_reserve(book_id=book_id, quantity=quantity)
            time.sleep(0.01)
        return taken

    return attempt


@postgres_only
def test_twenty_shoppers_race_for_the_last_three_copies(transactional_db):
    book = BookFactory(stock=3)

    results = run_at_once(*[reserve_then_linger(book.id, 1) for _ in range(SHOPPERS)])

    assert all(isinstance(result, bool) for result in results), results
    assert results.count(True) == 3
    assert results.count(False) == SHOPPERS - 3
    assert Book.objects.get(id=book.id).stock == 0


@postgres_only
def test_orders_of_several_books_race_without_deadlock_or_overselling(transactional_db):
    first, second = BookFactory(stock=3), BookFactory(stock=3)

    def order(quantities: dict[int, int]):
        def attempt() -> str:
            with transaction.atomic():
                book_stock_reserve_lines(quantities=quantities)
                time.sleep(0.01)
            return "reserved"

        return attempt

    # Half list the books one way round, half the other: without a fixed lock
    # order these would deadlock.
    calls = [
        order({first.id: 1, second.id: 1} if i % 2 else {second.id: 1, first.id: 1}) for i in range(SHOPPERS)
    ]
    results = run_at_once(*calls)

    assert results.count("reserved") == 3, results
    refused = [result for result in results if result != "reserved"]
    assert all(isinstance(result, OutOfStock) and result.available == 0 for result in refused), refused
    assert Book.objects.get(id=first.id).stock == 0
    assert Book.objects.get(id=second.id).stock == 0
