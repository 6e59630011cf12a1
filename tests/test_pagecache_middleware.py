"""Kept pages answered first in the stack (shop/pagecache_middleware.py): the same page, the same headers."""

import re
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from payments import views as payments_views
from shop.cart import views as cart_views
from shop.cart.models import CartLine
from shop.catalog import views as catalog_views
from shop.catalog.tests.factories import BookFactory
from shop.csrf_tokens import ALPHABET, csrf_token, random_chars

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Differ per response by nature: the date, and the CSRF cookie (carried in Set-Cookie, not in headers).
PER_RESPONSE = {"Date", "Expires"}


@pytest.fixture
def book():
    return BookFactory(title="The Dream Machine", slug="dream-machine", price_amount=2300, stock=20)


@pytest.fixture
def book_list_calls():
    """Counts the catalog view's renders: a kept answer never reaches the view."""
    with mock.patch.object(catalog_views, "page_render", wraps=catalog_views.page_render) as spy:
        yield spy


def headers_of(response) -> dict:
    return {name: value for name, value in response.items() if name not in PER_RESPONSE}


def without_token(html: str) -> str:
    return CSRF_INPUT.sub('name="csrfmiddlewaretoken" value=""', html)


@pytest.mark.parametrize("secure", [False, True])
def test_the_second_blank_visitor_gets_the_first_ones_page_and_headers_without_the_view(
    book, book_list_calls, secure
):
    first = Client().get("/", secure=secure)
    assert book_list_calls.call_count == 1

    second = Client().get("/", secure=secure)

    assert book_list_calls.call_count == 1
    assert second.status_code == 200
    assert headers_of(second) == headers_of(first)
    assert without_token(second.content.decode()) == without_token(first.content.decode())
    assert second["Content-Length"] == str(len(second.content))
    for header in ["Content-Security-Policy", "Permissions-Policy", "X-Frame-Options", "Referrer-Policy"]:
        assert second.has_header(header), header
    assert second.has_header("Strict-Transport-Security") is secure


def test_the_kept_checkout_page_keeps_stripes_csp_and_no_store_with_a_fresh_expiry(book):
    path = reverse("payments:checkout", args=[book.slug])
    first = Client().get(path)
    time.sleep(1.1)  # Expires has one-second resolution: a replayed one would be a second old

    second = Client().get(path)

    assert "https://js.stripe.com" in second["Content-Security-Policy"]
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]
    assert "no-store" in second["Cache-Control"]
    assert parsedate_to_datetime(second["Expires"]) > parsedate_to_datetime(first["Expires"])


def test_each_blank_visitor_gets_a_cookie_and_a_working_token_of_their_own(book):
    Client().get("/")
    shoppers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for shopper in shoppers:
        page = shopper.get("/")
        secret = page.cookies[settings.CSRF_COOKIE_NAME].value
        token = CSRF_INPUT.search(page.content.decode()).group(1)
        assert _unmask_cipher_token(token) == secret
        tokens.append(token)
    assert tokens[0] != tokens[1]

    response = shoppers[1].post(
        reverse("cart:add"), {"csrfmiddlewaretoken": tokens[1], "book": book.slug, "quantity": 1}
    )
    assert response.status_code == 302
    assert CartLine.objects.get().quantity == 1


def test_a_visitor_with_a_csrf_cookie_keeps_its_secret_in_a_new_mask(book):
    Client().get("/")
    visitor = Client()
    secret = visitor.get("/").cookies[settings.CSRF_COOKIE_NAME].value

    again = visitor.get("/")

    token = CSRF_INPUT.search(again.content.decode()).group(1)
    assert _unmask_cipher_token(token) == secret
    assert again.cookies[settings.CSRF_COOKIE_NAME].value == secret  # sent again: its expiry renewed


def test_a_shopper_with_a_session_goes_the_whole_way_and_sees_their_cart(book, book_list_calls):
    Client().get("/")
    shopper = Client()
    shopper.post(reverse("cart:add"), {"book": book.slug, "quantity": 3})
    calls = book_list_calls.call_count

    page = shopper.get("/").content.decode()

    assert book_list_calls.call_count == calls + 1
    assert 'Cart <span class="cart-link__count">(3)</span>' in page
    assert 'Cart <span class="cart-link__count">(0)</span>' in Client().get("/").content.decode()


def test_a_visitor_with_a_flash_message_cookie_goes_the_whole_way(book, book_list_calls):
    Client().get("/")
    visitor = Client()
    visitor.cookies["messages"] = "anything"

    visitor.get("/")

    assert book_list_calls.call_count == 2


def test_a_plain_http_request_is_still_redirected_to_https(book, settings):
    settings.SECURE_SSL_REDIRECT = True
    Client().get("/", secure=True)

    response = Client().get("/")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_an_unknown_host_gets_400_not_a_kept_page(book):
    Client().get("/")
    assert Client().get("/", HTTP_HOST="evil.example").status_code == 400


def test_other_methods_and_pages_that_are_not_kept_take_the_usual_way(book, book_list_calls):
    Client().get("/")
    assert Client().head("/").status_code == 200
    assert book_list_calls.call_count == 2
    assert Client().get("/books/no-such-book/").status_code == 404
    assert Client().get("/books/no-such-book/").status_code == 404


def test_an_admin_change_reaches_the_next_blank_visitor_at_once(admin_client, book, book_list_calls):
    Client().get("/")
    Client().get("/")
    book.price_amount = 3100
    book.save()

    page = Client().get("/").content.decode()

    assert "$31.00" in page
    assert book_list_calls.call_count == 2


def test_random_chars_are_of_the_alphabet_and_cover_it():
    drawn = random_chars(5000)
    assert len(drawn) == 5000
    assert set(drawn) == set(ALPHABET)
    assert random_chars(32) != random_chars(32)


def test_csrf_token_reuses_the_visitors_secret_and_masks_it_anew(rf):
    request = rf.get("/")
    request.META["CSRF_COOKIE"] = "a" * 32
    first, second = csrf_token(request), csrf_token(request)
    assert first != second
    assert _unmask_cipher_token(first) == _unmask_cipher_token(second) == "a" * 32
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_random_chars_drop_the_bytes_that_would_favour_some_characters(monkeypatch):
    draws = iter([bytes([255, 248, 61]) + b"\xff" * 37, bytes([62, 0, 1]) + b"\xfa" * 37])
    monkeypatch.setattr("shop.csrf_tokens.secrets.token_bytes", lambda size: next(draws))
    assert random_chars(4) == ALPHABET[61] + ALPHABET[0] + ALPHABET[0] + ALPHABET[1]


# Shoppers: a session cookie, no flash messages. Their cart is read first, in one query.


def shopper_with_cart(book, quantity: int) -> Client:
    shopper = Client()
    assert shopper.post(reverse("cart:add"), {"book": book.slug, "quantity": quantity}).status_code == 302
    shopper.get(reverse("cart:page"))  # shows the "added" message: its cookie is emptied
    return shopper


def cart_count(response) -> str:
    return re.search(r'class="cart-link__count">\((\d+)\)', response.content.decode()).group(1)


@pytest.fixture
def cart_page_calls():
    with mock.patch("shop.cart.views.page_render", wraps=cart_views.page_render) as spy:
        yield spy


def test_a_shoppers_next_catalog_visit_is_answered_first_with_their_count_and_no_query(
    book, book_list_calls, django_assert_num_queries
):
    alice, bob = shopper_with_cart(book, 3), shopper_with_cart(book, 1)
    assert cart_count(alice.get("/")) == "3"
    calls = book_list_calls.call_count

    with django_assert_num_queries(0):  # the cart's state remembered (shop/cart/shopper.py)
        page = alice.get("/")

    assert cart_count(page) == "3"
    assert book_list_calls.call_count == calls
    assert cart_count(bob.get("/")) == cart_count(bob.get("/")) == "1"
    assert cart_count(Client().get("/")) == "0"
    token = CSRF_INPUT.search(page.content.decode()).group(1)
    assert _unmask_cipher_token(token) == alice.cookies[settings.CSRF_COOKIE_NAME].value


def test_a_shoppers_cart_page_comes_from_memory_until_their_cart_changes(book, cart_page_calls):
    other = BookFactory(title="Visual Explanations", slug="visual-explanations", stock=5)
    alice, bob = shopper_with_cart(book, 2), shopper_with_cart(other, 2)  # same count and revision
    alice.get("/cart/")
    calls = cart_page_calls.call_count

    page = alice.get("/cart/").content.decode()

    assert cart_page_calls.call_count == calls
    assert "The Dream Machine" in page and "Visual Explanations" not in page
    assert "Visual Explanations" in bob.get("/cart/").content.decode()
    assert "Visual Explanations" in bob.get("/cart/").content.decode()
    alice.post(reverse("cart:add"), {"book": other.slug, "quantity": 1})
    assert "Visual Explanations" in alice.get("/cart/").content.decode()


def test_an_admin_change_reaches_a_shoppers_next_page_at_once(book):
    shopper = shopper_with_cart(book, 1)
    shopper.get("/")
    shopper.get("/")
    book.price_amount = 3100
    book.save()

    assert "$31.00" in shopper.get("/").content.decode()
    assert "$31.00" in shopper.get("/cart/").content.decode()


def test_an_expired_session_is_answered_as_no_cart(book):
    shopper = shopper_with_cart(book, 2)
    shopper.get("/")
    assert cart_count(shopper.get("/")) == "2"
    after_expiry = Session.objects.get().expire_date + timedelta(seconds=1)

    with mock.patch("django.utils.timezone.now", return_value=after_expiry):
        assert cart_count(shopper.get("/")) == "0"


def test_a_cart_change_reaches_the_next_page_of_every_shopper_at_once(book, django_assert_num_queries):
    alice, bob = shopper_with_cart(book, 2), shopper_with_cart(book, 1)
    for shopper in (alice, bob, alice, bob):
        shopper.get("/")
    alice.post(reverse("cart:update"), {"book": book.slug, "quantity": 5})
    alice.get(reverse("cart:page"))  # the "updated" message

    assert cart_count(alice.get("/")) == "5"
    with django_assert_num_queries(1):  # any cart change: each session's state read once more
        assert cart_count(bob.get("/")) == "1"


def test_a_page_that_read_the_session_is_never_answered_first(book):
    # The checkout page looks up the books this session paid for ("you already bought this").
    shopper = shopper_with_cart(book, 1)
    path = reverse("payments:checkout", args=[book.slug])
    with mock.patch("payments.views.page_render", wraps=payments_views.page_render) as spy:
        shopper.get(path)
        shopper.get(path)
    assert spy.call_count == 2


def test_a_shopper_with_a_flash_message_to_show_goes_the_whole_way(book, book_list_calls):
    shopper = shopper_with_cart(book, 1)
    shopper.get("/")
    shopper.post(reverse("cart:add"), {"book": book.slug, "quantity": 1})
    calls = book_list_calls.call_count

    page = shopper.get("/").content.decode()

    assert book_list_calls.call_count == calls + 1
    assert "Added a copy of" in page
