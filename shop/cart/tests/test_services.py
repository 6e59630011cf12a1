import pytest
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction

from shop.cart.exceptions import BookNotForSale, CurrencyMismatch, QuantityNotAllowed, TooManyLines
from shop.cart.models import MAX_LINES, Cart, CartLine
from shop.cart.services import cart_add_book, cart_clear, cart_set_quantity
from shop.cart.tests.factories import CartFactory, CartLineFactory, SessionFactory
from shop.catalog.exceptions import OutOfStock
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def quantities(session_key: str) -> dict[str, int]:
    return dict(CartLine.objects.filter(cart__session_id=session_key).values_list("book__slug", "quantity"))


@pytest.fixture
def session_key() -> str:
    return SessionFactory().session_key


def test_first_add_creates_the_cart_and_a_line(session_key):
    book = BookFactory(slug="dune")
    line = cart_add_book(session_key=session_key, book_id=book.id, quantity=2)
    assert line.cart.session_id == session_key
    assert quantities(session_key) == {"dune": 2}


def test_adding_again_adds_to_what_is_there(session_key):
    book = BookFactory(slug="dune")
    cart_add_book(session_key=session_key, book_id=book.id, quantity=2)
    cart_add_book(session_key=session_key, book_id=book.id, quantity=3)
    assert quantities(session_key) == {"dune": 5}
    assert Cart.objects.count() == 1


def test_adding_touches_the_cart(session_key):
    cart = CartFactory(session_id=session_key)
    before = cart.updated_at
    cart_add_book(session_key=session_key, book_id=BookFactory().id, quantity=1)
    cart.refresh_from_db()
    assert cart.updated_at > before


@pytest.mark.parametrize("quantity", [0, -1, 11])
def test_add_refuses_a_quantity_outside_1_to_10(session_key, quantity):
    book = BookFactory(title="Dune")
    with pytest.raises(QuantityNotAllowed) as refused:
        cart_add_book(session_key=session_key, book_id=book.id, quantity=quantity)
    assert refused.value.message == "You can order at most 10 copies of “Dune”."
    assert not Cart.objects.exists()  # the cart about to be created was rolled back


def test_add_refuses_more_than_10_in_total(session_key):
    book = BookFactory(title="Dune")
    cart_add_book(session_key=session_key, book_id=book.id, quantity=8)
    with pytest.raises(QuantityNotAllowed) as refused:
        cart_add_book(session_key=session_key, book_id=book.id, quantity=3)
    assert "your cart already has 8" in refused.value.message
    assert quantities(session_key) == {book.slug: 8}


def test_add_refuses_more_than_in_stock(session_key):
    book = BookFactory(title="Dune", stock=3)
    cart_add_book(session_key=session_key, book_id=book.id, quantity=2)
    with pytest.raises(OutOfStock) as refused:
        cart_add_book(session_key=session_key, book_id=book.id, quantity=2)
    assert refused.value.message == "Only 3 copies of “Dune” left."
    assert quantities(session_key) == {book.slug: 2}


def test_add_refuses_a_sold_out_book(session_key):
    book = BookFactory(title="Dune", stock=0)
    with pytest.raises(OutOfStock, match="“Dune” is sold out."):
        cart_add_book(session_key=session_key, book_id=book.id, quantity=1)


def test_add_refuses_an_inactive_or_missing_book(session_key):
    withdrawn = BookFactory(title="Withdrawn", is_active=False)
    with pytest.raises(BookNotForSale, match="“Withdrawn” is no longer for sale."):
        cart_add_book(session_key=session_key, book_id=withdrawn.id, quantity=1)
    with pytest.raises(BookNotForSale, match="That book is no longer for sale."):
        cart_add_book(session_key=session_key, book_id=withdrawn.id + 1000, quantity=1)
    assert not Cart.objects.exists()


def test_add_refuses_a_21st_book_but_more_copies_of_one_already_there(session_key):
    cart = CartFactory(session_id=session_key)
    lines = CartLineFactory.create_batch(MAX_LINES, cart=cart)
    extra = BookFactory()

    with pytest.raises(TooManyLines) as refused:
        cart_add_book(session_key=session_key, book_id=extra.id, quantity=1)

    assert "at most 20 different books" in refused.value.message
    assert cart.lines.count() == MAX_LINES
    cart_add_book(session_key=session_key, book_id=lines[0].book_id, quantity=1)
    assert cart.lines.get(book_id=lines[0].book_id).quantity == 2


def test_add_refuses_a_second_currency(session_key):
    cart_add_book(session_key=session_key, book_id=BookFactory(currency="usd").id, quantity=1)
    euro = BookFactory(title="Euro Book", currency="eur")
    with pytest.raises(CurrencyMismatch, match="“Euro Book” is priced in another currency"):
        cart_add_book(session_key=session_key, book_id=euro.id, quantity=1)
    assert len(quantities(session_key)) == 1


def test_set_quantity_replaces_the_quantity(session_key):
    book = BookFactory(slug="dune")
    cart_add_book(session_key=session_key, book_id=book.id, quantity=5)
    cart_set_quantity(session_key=session_key, book_id=book.id, quantity=2)
    assert quantities(session_key) == {"dune": 2}


def test_set_quantity_adds_a_book_not_yet_in_the_cart(session_key):
    book = BookFactory(slug="dune")
    cart_set_quantity(session_key=session_key, book_id=book.id, quantity=3)
    assert quantities(session_key) == {"dune": 3}


def test_set_quantity_zero_removes_the_line_and_keeps_the_others(session_key):
    keep, drop = BookFactory(slug="keep"), BookFactory(slug="drop")
    for book in (keep, drop):
        cart_add_book(session_key=session_key, book_id=book.id, quantity=1)
    assert cart_set_quantity(session_key=session_key, book_id=drop.id, quantity=0) is None
    assert quantities(session_key) == {"keep": 1}


def test_set_quantity_zero_without_a_cart_creates_nothing(session_key):
    cart_set_quantity(session_key=session_key, book_id=BookFactory().id, quantity=0)
    assert not Cart.objects.exists()


def test_set_quantity_zero_removes_a_withdrawn_book(session_key):
    line = CartLineFactory(cart=CartFactory(session_id=session_key), book=BookFactory(is_active=False))
    cart_set_quantity(session_key=session_key, book_id=line.book_id, quantity=0)
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("quantity", [-1, 11])
def test_set_quantity_refuses_outside_0_to_10(session_key, quantity):
    line = CartLineFactory(cart=CartFactory(session_id=session_key), quantity=4)
    with pytest.raises(QuantityNotAllowed):
        cart_set_quantity(session_key=session_key, book_id=line.book_id, quantity=quantity)
    line.refresh_from_db()
    assert line.quantity == 4


def test_set_quantity_refuses_more_than_in_stock(session_key):
    line = CartLineFactory(cart=CartFactory(session_id=session_key), book=BookFactory(stock=3), quantity=1)
    with pytest.raises(OutOfStock):
        cart_set_quantity(session_key=session_key, book_id=line.book_id, quantity=4)
    line.refresh_from_db()
    assert line.quantity == 1


def test_set_quantity_refuses_a_withdrawn_book(session_key):
    line = CartLineFactory(cart=CartFactory(session_id=session_key), book=BookFactory(is_active=False))
    with pytest.raises(BookNotForSale):
        cart_set_quantity(session_key=session_key, book_id=line.book_id, quantity=2)


def test_clear_empties_only_that_cart():
    mine, theirs = CartLineFactory(quantity=2), CartLineFactory(quantity=3)
    cart_clear(cart_id=mine.cart_id)
    assert list(CartLine.objects.all()) == [theirs]
    assert Cart.objects.filter(id=mine.cart_id).exists()


def test_a_cart_goes_with_its_session():
    line = CartLineFactory()
    Session.objects.filter(session_key=line.cart.session_id).delete()
    assert not Cart.objects.exists()
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("quantity", [0, 11])
def test_the_database_refuses_a_line_outside_1_to_10(quantity):
    with pytest.raises(IntegrityError), transaction.atomic():
        CartLineFactory(quantity=quantity)


def test_the_database_refuses_two_lines_for_one_book():
    line = CartLineFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CartLineFactory(cart=line.cart, book=line.book)
