"""Shopper pages kept in memory (shop/pagecache.py): always fresh, per-visitor parts right, no GET session."""

import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.cart.models import CartLine
from shop.catalog.models import Book
from shop.catalog.services import book_stock_release, book_stock_reserve
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def book():
    return BookFactory(title="The Dream Machine", slug="dream-machine", price_amount=2300, stock=20)


def pages(book: Book) -> list[str]:
    return ["/", book.get_absolute_url(), reverse("payments:checkout", args=[book.slug])]


def visit(path: str) -> str:
    """The page as a new visitor gets it."""
    response = Client().get(path)
    assert response.status_code == 200
    return response.content.decode()


def queries_for(path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(path).status_code == 200
    return len(queries.captured_queries)


def admin_save(admin_client, book: Book, **changes) -> None:
    """Save the book through its admin change page, as staff do."""
    data = {
        "title": book.title,
        "author": book.author,
        "slug": book.slug,
        "description": book.description,
        "cover": book.cover,
        "price_amount": f"{book.price_amount / 100:.2f}",
        "currency": book.currency,
        "stock": str(book.stock),
        "_save": "Save",
    }
    if book.is_active:
        data["is_active"] = "on"
    data.update(changes)
    if data.get("is_active") is False:
        del data["is_active"]
    response = admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_page_seen_once_is_served_from_memory(book):
    for path in pages(book):
        assert queries_for(path) >= 1
        assert queries_for(path) == 0


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"price_amount": "31.00"}, "$31.00"),
        ({"title": "The Dream Machine, revised"}, "The Dream Machine, revised"),
    ],
)
def test_an_admin_change_shows_on_the_very_next_request(admin_client, book, changes, shown):
    before = [visit(path) for path in pages(book)]
    assert all(shown not in page for page in before)

    admin_save(admin_client, book, **changes)

    for path in pages(book):
        assert shown in visit(path), path


def test_stock_set_to_zero_in_the_admin_shows_sold_out_at_once(admin_client, book):
    assert "Sold out" not in visit("/")
    admin_save(admin_client, book, stock="0")
    assert "Sold out" in visit("/")
    assert "Sold out" in visit(book.get_absolute_url())


def test_a_book_taken_off_sale_in_the_admin_disappears_at_once(admin_client, book):
    other = BookFactory(title="Stays on sale")
    for path in pages(book):
        visit(path)

    admin_save(admin_client, book, is_active=False)

    assert "The Dream Machine" not in visit("/")
    assert "Stays on sale" in visit("/")
    assert Client().get(book.get_absolute_url()).status_code == 404
    assert Client().get(reverse("payments:checkout", args=[book.slug])).status_code == 404
    assert other.title in visit(other.get_absolute_url())


def test_stock_taken_by_a_payment_and_given_back_shows_at_once(book):
    assert "Sold out" not in visit("/")
    assert book_stock_reserve(book_id=book.id, quantity=20)
    assert "Sold out" in visit("/")
    book_stock_release(book_id=book.id, quantity=2)
    page = visit(book.get_absolute_url())
    assert "Sold out" not in page
    assert 'max="2"' in page


def test_a_book_deleted_disappears_at_once(book):
    visit("/")
    book.delete()
    assert "The Dream Machine" not in visit("/")


def test_each_visitor_gets_their_own_cart_count_and_messages_on_a_kept_page(book):
    visit("/")  # kept in memory from here on
    shopper = Client()
    response = shopper.post(reverse("cart:add"), {"book": book.slug, "quantity": 2, "next": "/"})
    assert response.status_code == 302

    first = shopper.get("/").content.decode()
    again = shopper.get("/").content.decode()
    stranger = visit("/")

    assert 'Cart <span class="cart-link__count">(2)</span>' in first
    assert "Added 2 copies of “The Dream Machine” to your cart." in first
    assert "(2)</span>" in again and "Added 2 copies" not in again  # a message shows once
    assert 'Cart <span class="cart-link__count">(0)</span>' in stranger
    assert "Added" not in stranger


def test_the_checkout_page_says_already_bought_only_to_the_buyer(book):
    from payments.views import SESSION_ORDER_IDS
    from shop.orders.models import OrderStatus
    from shop.orders.tests.factories import OrderFactory

    path = reverse("payments:checkout", args=[book.slug])
    visit(path)
    order = OrderFactory(status=OrderStatus.PAID, payment_intent_id="pi_bought_already", items__book=book)
    buyer = Client()
    session = buyer.session
    session[SESSION_ORDER_IDS] = [order.pk]
    session.save()
    buyer.cookies[settings.SESSION_COOKIE_NAME] = session.session_key

    assert "You already bought this book" in buyer.get(path).content.decode()
    assert "You already bought this book" not in visit(path)


def test_browsing_and_opening_the_checkout_page_start_no_session(book):
    visitor = Client()
    for path in [*pages(book), *pages(book), reverse("cart:page")]:
        response = visitor.get(path)
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert not Session.objects.exists()


def test_a_new_visitor_can_add_to_the_cart_from_a_kept_page_with_csrf_checks_on(book):
    visit("/")  # rendered for someone else, kept in memory
    shopper = Client(enforce_csrf_checks=True)
    page = shopper.get("/")
    tokens = set(CSRF_INPUT.findall(page.content.decode()))
    assert len(tokens) == 1  # one token for every form of the page, this visitor's
    assert settings.CSRF_COOKIE_NAME in page.cookies

    response = shopper.post(
        reverse("cart:add"), {"csrfmiddlewaretoken": tokens.pop(), "book": book.slug, "quantity": 1}
    )

    assert response.status_code == 302
    assert CartLine.objects.get().quantity == 1


def test_two_visitors_get_different_csrf_tokens_from_one_kept_page(book):
    visit("/")
    first, second = Client(), Client()
    token_1 = CSRF_INPUT.search(first.get("/").content.decode()).group(1)
    token_2 = CSRF_INPUT.search(second.get("/").content.decode()).group(1)
    assert token_1 != token_2
    assert first.cookies[settings.CSRF_COOKIE_NAME].value != second.cookies[settings.CSRF_COOKIE_NAME].value


def test_a_forged_form_is_still_refused_on_a_kept_page(book):
    visit("/")
    shopper = Client(enforce_csrf_checks=True)
    shopper.get("/")
    response = shopper.post(reverse("cart:add"), {"csrfmiddlewaretoken": "x" * 64, "book": book.slug})
    assert response.status_code == 403
    assert not CartLine.objects.exists()


def test_catalog_queries_do_not_grow_with_a_thousand_books(book):
    few = queries_for("/")
    Book.objects.bulk_create(
        BookFactory.build(slug=f"bulk-{n}", title=f"Bulk {n}", currency="usd") for n in range(1000)
    )
    BookFactory(slug="one-more")  # saved one by one: the pages render anew
    assert queries_for("/") == few
    assert visit("/").count("/checkout/") == 1002


def test_pages_are_rendered_fresh_when_the_cache_is_unreachable(book, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    assert "The Dream Machine" in visit("/")
    Book.objects.filter(pk=book.pk).update(title="Renamed behind the caches back")
    assert "Renamed behind the caches back" in visit("/")


def test_page_cache_off_renders_every_time(book, settings):
    settings.PAGE_CACHE = False
    assert queries_for("/") == queries_for("/") >= 1
