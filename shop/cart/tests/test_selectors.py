from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shop.cart.models import Cart
from shop.cart.selectors import cart_item_count, cart_summary
from shop.cart.tests.factories import CartFactory, CartLineFactory, SessionFactory
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shipping(settings):
    settings.SHIPPING_FLAT_AMOUNT = 499
    settings.SHIPPING_FREE_FROM = 5000


def test_no_session_no_cart_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert cart_item_count(session_key=None) == 0
        assert cart_summary(session_key=None).is_empty


def test_a_session_without_a_cart_gets_none_and_creates_nothing():
    session = SessionFactory()
    assert cart_item_count(session_key=session.session_key) == 0
    assert cart_summary(session_key=session.session_key).cart_id is None
    assert not Cart.objects.exists()


def test_the_cart_of_the_session():
    mine, theirs = CartLineFactory(quantity=2).cart, CartLineFactory(quantity=5).cart
    assert cart_item_count(session_key=mine.session_id) == 2
    summary = cart_summary(session_key=mine.session_id)
    assert (summary.cart_id, summary.item_count) == (mine.id, 2)
    assert cart_summary(session_key=theirs.session_id).cart_id == theirs.id


def test_an_expired_session_has_no_cart():
    cart = CartLineFactory(cart__session__expire_date=timezone.now() - timedelta(seconds=1), quantity=3).cart
    assert cart_item_count(session_key=cart.session_id) == 0
    assert cart_summary(session_key=cart.session_id).is_empty


def test_count_adds_copies_in_one_query(django_assert_num_queries):
    cart = CartFactory()
    CartLineFactory(cart=cart, quantity=2)
    CartLineFactory(cart=cart, quantity=3)
    CartLineFactory(quantity=7)  # another shopper's
    with django_assert_num_queries(1):
        assert cart_item_count(session_key=cart.session_id) == 5


def test_summary_lines_and_totals():
    cart = CartFactory()
    hamming = BookFactory(title="Hamming", price_amount=2300)
    mechner = BookFactory(title="Mechner", price_amount=850)
    CartLineFactory(cart=cart, book=hamming, quantity=1)
    CartLineFactory(cart=cart, book=mechner, quantity=2)

    summary = cart_summary(session_key=cart.session_id)

    assert [
        (line.book.title, line.quantity, line.unit_amount, line.line_amount) for line in summary.lines
    ] == [
        ("Hamming", 1, 2300, 2300),
        ("Mechner", 2, 850, 1700),
    ]
    assert (summary.subtotal_amount, summary.shipping_amount, summary.total_amount) == (4000, 499, 4499)
    assert (summary.currency, summary.item_count, summary.cart_id) == ("usd", 3, cart.id)
    assert summary.can_check_out
    assert summary.problems == []


def test_summary_ships_free_from_the_threshold():
    line = CartLineFactory(book=BookFactory(price_amount=2500), quantity=2)
    summary = cart_summary(session_key=line.cart.session_id)
    assert (summary.subtotal_amount, summary.shipping_amount, summary.total_amount) == (5000, 0, 5000)


def test_summary_names_what_changed_since_the_books_were_added():
    cart = CartFactory()
    CartLineFactory(cart=cart, book=BookFactory(title="Fine"), quantity=1)
    CartLineFactory(cart=cart, book=BookFactory(title="Scarce", stock=2), quantity=3)
    CartLineFactory(cart=cart, book=BookFactory(title="Gone", stock=0), quantity=1)
    CartLineFactory(cart=cart, book=BookFactory(title="Withdrawn", is_active=False), quantity=1)
    CartLineFactory(cart=cart, book=BookFactory(title="Abroad", currency="eur"), quantity=1)

    summary = cart_summary(session_key=cart.session_id)

    assert [line.problem for line in summary.lines] == [
        "",
        "Only 2 copies of “Scarce” left.",
        "“Gone” is sold out.",
        "“Withdrawn” is no longer for sale.",
        "“Abroad” is priced in another currency than your cart. Check out your cart first.",
    ]
    assert len(summary.problems) == 4
    assert not summary.can_check_out


def test_summary_of_twenty_lines_takes_one_query(django_assert_num_queries):
    cart = CartFactory()
    CartLineFactory(cart=cart)
    with CaptureQueriesContext(connection) as one_line:
        cart_summary(session_key=cart.session_id)
    assert len(one_line.captured_queries) == 1

    CartLineFactory.create_batch(19, cart=cart)
    with django_assert_num_queries(1):
        summary = cart_summary(session_key=cart.session_id)
        assert len(summary.lines) == 20
        assert all(line.book.title for line in summary.lines)
