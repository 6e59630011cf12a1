"""The cart page and the cart checkout kept rendered per cart revision (shop/pagecache.py):
each shopper sees their own cart, every change shows on the next request, one query per visit."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from shop.cart.models import MAX_LINES, Cart
from shop.cart.services import cart_clear
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CART_CHECKOUT = reverse("payments:cart_checkout")


def shopper_with(*lines: tuple[Book, int]) -> Client:
    client = Client()
    for book, quantity in lines:
        response = client.post("/cart/add/", {"book": book.slug, "quantity": quantity})
        assert response.status_code == 302
    return client


def cart_lines(client: Client) -> dict[str, str]:
    """{slug: quantity} as the cart page shows them."""
    html = client.get("/cart/").content.decode()
    return dict(re.findall(r'id="quantity-([\w-]+)" type="number" name="quantity" value="(\d+)"', html))


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def books():
    return (
        BookFactory(slug="hamming", title="The Art of Doing Science", price_amount=2300, stock=9),
        BookFactory(slug="tufte", title="Visual Explanations", price_amount=1200, stock=9),
    )


def test_each_shopper_sees_their_own_cart_also_once_kept(books):
    hamming, tufte = books
    alice, bob = shopper_with((hamming, 2)), shopper_with((tufte, 2))  # same count, same revision
    for _ in range(2):  # rendered, then from memory
        assert cart_lines(alice) == {"hamming": "2"}
        assert cart_lines(bob) == {"tufte": "2"}
        assert cart_lines(Client()) == {}


def test_a_stolen_looking_cookie_for_no_live_session_shows_an_empty_cart(books):
    alice = shopper_with((books[0], 1))
    cart_lines(alice)
    stranger = Client()
    stranger.cookies["sessionid"] = "x" * 32
    assert cart_lines(stranger) == {}


def test_every_cart_change_shows_on_the_next_request(books):
    hamming, tufte = books
    shopper = shopper_with((hamming, 1))
    assert cart_lines(shopper) == {"hamming": "1"}
    shopper.post("/cart/add/", {"book": "tufte", "quantity": 2})
    assert cart_lines(shopper) == {"hamming": "1", "tufte": "2"}
    shopper.post("/cart/update/", {"book": "hamming", "quantity": 4})
    assert cart_lines(shopper) == {"hamming": "4", "tufte": "2"}
    shopper.post("/cart/update/", {"book": "tufte", "quantity": 0})
    assert cart_lines(shopper) == {"hamming": "4"}
    cart_clear(cart_id=Cart.objects.get().id)  # its order was paid
    assert cart_lines(shopper) == {}
    assert "Your cart is empty." in page_text(shopper.get("/cart/"))


def test_removing_and_clearing_move_the_revision_on(books):
    shopper = shopper_with((books[0], 1), (books[1], 1))
    cart = Cart.objects.get()
    shopper.post("/cart/update/", {"book": "tufte", "quantity": 0})
    after_remove = Cart.objects.get().revision
    assert after_remove > cart.revision
    cart_clear(cart_id=cart.id)
    assert Cart.objects.get().revision > after_remove


def test_a_book_change_shows_on_the_next_request(books):
    hamming, _ = books
    shopper = shopper_with((hamming, 3))
    assert "$69.00" in page_text(shopper.get("/cart/"))
    hamming.price_amount, hamming.title = 2500, "The Art of Doing Science and Engineering"
    hamming.save()
    text = page_text(shopper.get("/cart/"))
    assert "$75.00" in text and "The Art of Doing Science and Engineering" in text
    hamming.stock = 2
    hamming.save()
    assert "Only 2 copies of" in page_text(shopper.get("/cart/"))


def test_an_expired_session_no_longer_shows_its_kept_cart(books):
    shopper = shopper_with((books[0], 1))
    assert cart_lines(shopper) == {"hamming": "1"}
    assert cart_lines(shopper) == {"hamming": "1"}  # its state remembered
    after_expiry = Session.objects.get().expire_date + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=after_expiry):
        assert cart_lines(shopper) == {}


def test_a_deleted_session_no_longer_shows_its_kept_cart(books):
    shopper = shopper_with((books[0], 1))
    assert cart_lines(shopper) == {"hamming": "1"}
    assert cart_lines(shopper) == {"hamming": "1"}
    Session.objects.all().delete()  # clearsessions, a sign-out elsewhere
    assert cart_lines(shopper) == {}


def test_a_cart_emptied_by_its_paid_order_shows_empty_at_once(books):
    shopper = shopper_with((books[0], 2))
    assert cart_lines(shopper) == {"hamming": "2"}
    assert cart_lines(shopper) == {"hamming": "2"}
    cart_clear(cart_id=Cart.objects.get().id)  # what the order's payment does, in a task worker
    assert cart_lines(shopper) == {}


def test_each_visitor_gets_their_own_csrf_token_and_it_works(books):
    alice, bob = shopper_with((books[0], 1)), shopper_with((books[0], 1))
    tokens = {}
    for name, client in (("alice", alice), ("bob", bob)):
        client.handler.enforce_csrf_checks = True
        html = client.get("/cart/").content.decode()
        tokens[name] = set(CSRF_INPUT.findall(html))
        assert len(tokens[name]) == 1  # one token for all the page's forms
    assert tokens["alice"] != tokens["bob"]
    (token,) = tokens["alice"]
    response = alice.post("/cart/update/", {"book": "hamming", "quantity": 2, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert cart_lines(alice) == {"hamming": "2"}


def test_messages_are_filled_in_per_request(books):
    shopper = shopper_with()
    cart_lines(shopper)  # the empty cart, kept
    response = shopper.post("/cart/add/", {"book": "hamming"}, follow=True)
    assert "Added a copy of “The Art of Doing Science” to your cart." in page_text(response)
    assert "Added a copy" not in page_text(shopper.get("/cart/"))  # shown once


def test_a_kept_cart_page_costs_no_query_whatever_its_size(django_assert_num_queries):
    shelf = BookFactory.create_batch(MAX_LINES, stock=5)
    shopper = shopper_with(*((book, 1) for book in shelf))
    shopper.get("/")  # shows (and so uses up) the adds' messages; the cart's state is read
    with django_assert_num_queries(1):  # its lines with their books (the state is remembered)
        first = shopper.get("/cart/")
    with django_assert_num_queries(0):
        again = shopper.get("/cart/")
    assert page_text(again).count(">Remove<") == MAX_LINES
    assert CSRF_INPUT.sub("", first.content.decode()) == CSRF_INPUT.sub("", again.content.decode())


def test_the_catalog_with_a_cart_costs_one_query_then_none(books, django_assert_num_queries):
    shopper = shopper_with((books[0], 2), (books[1], 1))
    Client().get("/")  # the catalog rendered and kept
    with django_assert_num_queries(1):  # the cart's state, for the header's count
        shopper.get("/")
    with django_assert_num_queries(0):  # remembered until a cart or session changes
        response = shopper.get("/")
    assert 'class="cart-link__count">(3)' in response.content.decode()


def test_the_cart_checkout_is_kept_per_revision_and_costs_no_query(books, django_assert_num_queries):
    shopper = shopper_with((books[0], 1))
    assert shopper.get(CART_CHECKOUT).status_code == 200
    with django_assert_num_queries(0):
        response = shopper.get(CART_CHECKOUT)
    assert "The Art of Doing Science" in page_text(response)
    assert "Visual Explanations" not in page_text(response)
    shopper.post("/cart/add/", {"book": "tufte"})
    assert "Visual Explanations" in page_text(shopper.get(CART_CHECKOUT))
    other = shopper_with((books[1], 2))
    text = page_text(other.get(CART_CHECKOUT))
    assert "Visual Explanations" in text and "The Art of Doing Science" not in text


def test_the_cart_checkout_sends_back_to_the_cart_once_a_line_has_a_problem(books):
    hamming, _ = books
    shopper = shopper_with((hamming, 3))
    assert shopper.get(CART_CHECKOUT).status_code == 200
    hamming.stock = 1
    hamming.save()
    response = shopper.get(CART_CHECKOUT)
    assert (response.status_code, response["Location"]) == (302, reverse("cart:page"))


def test_an_empty_cart_checkout_costs_one_query_and_sends_back(django_assert_num_queries):
    shopper = shopper_with()
    with django_assert_num_queries(0):  # no session cookie: nothing to read
        assert shopper.get(CART_CHECKOUT).status_code == 302


def test_without_the_page_cache_every_visit_renders(books, settings, django_assert_num_queries):
    settings.PAGE_CACHE = False
    shopper = shopper_with((books[0], 1))
    shopper.get("/cart/")
    with django_assert_num_queries(2):
        assert cart_lines(shopper) == {"hamming": "1"}
