import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from shop.catalog.exceptions import OutOfStock
from shop.catalog.models import Book
from shop.catalog.services import book_stock_release, book_stock_reserve, book_stock_reserve_lines
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def stock_of(book: Book) -> int:
    return Book.objects.values_list("stock", flat=True).get(id=book.id)


def test_reserve_takes_copies_when_enough_are_on_hand():
    book = BookFactory(stock=5)
    assert book_stock_reserve(book_id=book.id, quantity=3) is True
    assert stock_of(book) == 2


def test_reserve_takes_the_last_copies():
    book = BookFactory(stock=2)
    assert book_stock_reserve(book_id=book.id, quantity=2) is True
    assert stock_of(book) == 0


def test_reserve_takes_nothing_when_short():
    book = BookFactory(stock=2)
    assert book_stock_reserve(book_id=book.id, quantity=3) is False
    assert stock_of(book) == 2


def test_reserve_is_one_conditional_update():
    book = BookFactory(stock=2)
    with CaptureQueriesContext(connection) as queries:
        book_stock_reserve(book_id=book.id, quantity=1)
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"]
    assert sql.startswith("UPDATE")
    assert '"stock" >=' in sql


def test_reserve_of_an_unknown_book_takes_nothing():
    assert book_stock_reserve(book_id=987654, quantity=1) is False


@pytest.mark.parametrize("quantity", [0, -1])
def test_reserve_and_release_refuse_a_quantity_that_is_not_positive(quantity):
    book = BookFactory(stock=2)
    with pytest.raises(ValueError):
        book_stock_reserve(book_id=book.id, quantity=quantity)
    with pytest.raises(ValueError):
        book_stock_release(book_id=book.id, quantity=quantity)
    assert stock_of(book) == 2


def test_release_puts_copies_back():
    book = BookFactory(stock=0)
    book_stock_release(book_id=book.id, quantity=4)
    assert stock_of(book) == 4


def test_the_database_refuses_negative_stock():
    book = BookFactory(stock=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Book.objects.filter(id=book.id).update(stock=-1)


def test_reserve_lines_takes_every_line():
    first, second = BookFactory(stock=3), BookFactory(stock=10)
    book_stock_reserve_lines(quantities={second.id: 4, first.id: 3})
    assert (stock_of(first), stock_of(second)) == (0, 6)


def test_reserve_lines_takes_nothing_when_one_line_is_short():
    first, second, third = BookFactory(stock=5), BookFactory(stock=1, title="Scarce"), BookFactory(stock=5)

    with pytest.raises(OutOfStock) as raised:
        book_stock_reserve_lines(quantities={first.id: 2, second.id: 2, third.id: 2})

    assert raised.value.book == second
    assert raised.value.available == 1
    assert str(raised.value) == "Only 1 copy of “Scarce” left."
    assert [stock_of(book) for book in (first, second, third)] == [5, 1, 5]


def test_reserve_lines_inside_an_outer_transaction_rolls_back_only_its_own_work():
    book, scarce = BookFactory(stock=5), BookFactory(stock=0, title="Gone")
    other = BookFactory(stock=5)
    with transaction.atomic():
        book_stock_reserve(book_id=other.id, quantity=1)
        with pytest.raises(OutOfStock) as raised:
            book_stock_reserve_lines(quantities={book.id: 1, scarce.id: 1})
    assert raised.value.message == "“Gone” is sold out."
    assert (stock_of(book), stock_of(other)) == (5, 4)


def test_out_of_stock_message_counts_copies():
    book = BookFactory.build(title="Dune")
    assert OutOfStock(book, available=3).message == "Only 3 copies of “Dune” left."
