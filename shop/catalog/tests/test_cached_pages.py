"""The catalog and book pages from Django's cache (shop/catalog/cache.py), as shoppers see them:
a change shows on the next request, a lost invalidation heals within the timeout, and a cache
that is stalled or down costs a fraction of a second, never the page."""

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.cart.models import CartLine
from shop.catalog.models import Book
from shop.catalog.services import book_stock_release, book_stock_reserve
from shop.catalog.tests.factories import BookFactory
from shop.catalog.tests.test_cover_upload import admin_post
from shop.orders.access import order_page_path, order_receipt_path
from shop.orders.tests.factories import OrderFactory

# Committed for real: the catalog version moves on when a transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
ANSWER_WITHIN_SECONDS = 2.0


@pytest.fixture
def book():
    return BookFactory(title="The Dream Machine", slug="dream-machine", price_amount=2300, stock=20)


def pages(book: Book) -> list[str]:
    return ["/", reverse("catalog:book_detail", args=[book.slug])]


def visit(path: str) -> str:
    """The page as a new visitor gets it, answered in time."""
    started = time.monotonic()
    response = Client().get(path)
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS, path
    assert response.status_code == 200
    return response.content.decode()


def admin_save(admin_client, book: Book, **changes: str) -> None:
    """Save the book through its admin change page, as staff do (prices in dollars)."""
    response = admin_post(admin_client, book, **changes)
    assert response.status_code == 302, response.content.decode()[:2000]


def redis_caches(prefix: str, url: str = REDIS_URL) -> dict:
    """CACHES for a Redis at `url`, as config/settings.py makes them from CACHE_URL."""
    timeout = django_settings.CACHE_TIMEOUT_SECONDS
    return {
        "default": {
            "BACKEND": REDIS_CACHE,
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }


@pytest.fixture(params=["locmem", "redis"])
def real_cache(request, settings):
    """The test settings' per-process cache, or Redis (TEST_REDIS_URL) when one answers."""
    if request.param == "locmem":
        yield
        return
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        server.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test-catalog-{uuid.uuid4().hex}"
    settings.CACHES = redis_caches(prefix)
    yield
    for key in server.scan_iter(f"{prefix}*"):
        server.delete(key)


@contextmanager
def stalled_cache_server(*, lifetime: float = 30.0) -> Iterator[tuple[int, list]]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers: a stalled Redis.

    Yields its port and the connections it accepted. It stops when the block
    ends, or after `lifetime` seconds whatever happens.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    accepted: list[socket.socket] = []
    stop = threading.Event()
    deadline = time.monotonic() + lifetime

    def serve() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
        for peer in accepted:
            peer.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: a Redis that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_page_seen_once_comes_from_the_cache(book, django_assert_num_queries):
    for path in pages(book):
        visit(path)
        with django_assert_num_queries(0):
            assert "$23.00" in visit(path)


def test_an_admin_price_change_shows_on_the_very_next_request(real_cache, admin_client, book):
    for path in pages(book):
        assert "$23.00" in visit(path)
        assert "$23.00" in visit(path)  # from the cache

    admin_save(admin_client, book, price_amount="99.00")

    for path in pages(book):
        page = visit(path)
        assert "$99.00" in page and "$23.00" not in page, path
    assert '<ul class="book-grid"' in visit("/")  # the cached fragment is markup, not escaped text


def test_a_price_changed_in_the_admin_list_shows_at_once(admin_client, book):
    visit("/")
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(book.pk),
        "form-0-price_amount": "31.00",
        "form-0-is_active": "on",
        "_save": "Save",
    }
    response = admin_client.post(reverse("admin:catalog_book_changelist"), data)
    assert response.status_code == 302
    assert Book.objects.get(pk=book.pk).price_amount == 3100
    assert "$31.00" in visit("/")


def test_stock_taken_and_given_back_by_the_services_shows_at_once(real_cache, book):
    assert "Sold out" not in visit("/")
    with transaction.atomic():
        assert book_stock_reserve(book_id=book.id, quantity=20)
    for path in pages(book):
        assert "Sold out" in visit(path)
    book_stock_release(book_id=book.id, quantity=2)
    page = visit(pages(book)[1])
    assert "Sold out" not in page
    assert 'max="2"' in page


def test_a_change_rolled_back_leaves_the_pages_as_they_were(book):
    visit("/")
    with pytest.raises(RuntimeError), transaction.atomic():
        book_stock_reserve(book_id=book.id, quantity=20)
        raise RuntimeError("the payment failed")
    assert "Sold out" not in visit("/")


def test_a_book_taken_off_sale_or_deleted_disappears_at_once(admin_client, book):
    other = BookFactory(title="Stays on sale", slug="stays")
    for path in [*pages(book), *pages(other)]:
        visit(path)

    admin_save(admin_client, book, is_active="")

    assert "The Dream Machine" not in visit("/")
    assert Client().get(pages(book)[1]).status_code == 404
    other.delete()
    assert "Stays on sale" not in visit("/")
    assert Client().get(pages(other)[1]).status_code == 404


def test_a_lost_invalidation_heals_once_the_entries_time_out(
    real_cache, admin_client, book, settings, caplog
):
    settings.CATALOG_CACHE_SECONDS = 1
    working = settings.CACHES
    for path in pages(book):
        assert "$23.00" in visit(path)

    settings.CACHES = redis_caches("down", url=f"redis://127.0.0.1:{closed_port()}/0")  # a short outage
    with caplog.at_level(logging.ERROR, logger="shop.catalog.cache"):
        admin_save(admin_client, book, price_amount="99.00")  # its version bump is lost
    assert "catalog_cache_not_invalidated" in caplog.messages
    settings.CACHES = working  # the cache is back, with the pages of before the change

    assert "$23.00" in visit("/")
    time.sleep(1.2)
    for path in pages(book):
        assert "$99.00" in visit(path), path


@pytest.mark.parametrize("outage", ["stalled", "down"])
def test_pages_answer_in_time_with_the_current_price_while_the_cache_fails(
    admin_client, book, settings, caplog, outage
):
    for path in pages(book):
        visit(path)  # in the working cache: what a stale answer would show

    with stalled_cache_server() as (stalled_port, accepted):
        port = stalled_port if outage == "stalled" else closed_port()
        settings.CACHES = redis_caches("failing", url=f"redis://127.0.0.1:{port}/0")
        admin_save(admin_client, book, price_amount="99.00")
        with caplog.at_level(logging.WARNING, logger="shop.catalog.cache"):
            for path in [*pages(book), *pages(book)]:
                page = visit(path)
                assert "$99.00" in page and "$23.00" not in page, path
        assert bool(accepted) is (outage == "stalled")  # the stalled server was really asked
    assert "catalog_cache_unavailable" in caplog.messages


def test_catalog_queries_stay_constant_with_the_catalog_size_for_a_shopper(client, django_assert_num_queries):
    shelf = BookFactory.create_batch(3)
    client.post(reverse("cart:add"), {"book": shelf[0].slug, "quantity": 2})
    client.get("/")  # shows the "added" message, keeps the books' fragment
    with django_assert_num_queries(1):  # the header's cart count
        few = client.get("/")
    BookFactory.create_batch(40)  # each saved: the books' fragment is rendered again, once
    with django_assert_num_queries(3):  # how many books, their page, the cart count
        client.get("/")
    with django_assert_num_queries(1):
        many = client.get("/")
    assert 'class="cart-link__count">(2)' in many.content.decode()
    assert (
        many.content.decode().count('name="book" value=')
        == 24  # a full page of the 43
        > few.content.decode().count('name="book" value=')
    )


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_each_visitor_gets_their_own_cart_count_and_messages_on_a_cached_page(book):
    visit("/")  # the books' fragment cached from here on
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


@pytest.mark.parametrize("page", [0, 1], ids=["catalog", "book"])
def test_visitors_add_to_the_cart_from_a_cached_page_with_tokens_of_their_own(book, page):
    path = pages(book)[page]
    visit(path)  # rendered for someone else, cached
    alice, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    tokens = [set(CSRF_INPUT.findall(visitor.get(path).content.decode())) for visitor in (alice, bob)]
    assert [len(found) for found in tokens] == [1, 1]  # one form, one token, each visitor's own
    assert tokens[0] != tokens[1]

    forged = bob.post(reverse("cart:add"), {"csrfmiddlewaretoken": tokens[0].pop(), "book": book.slug})
    added = bob.post(reverse("cart:add"), {"csrfmiddlewaretoken": tokens[1].pop(), "book": book.slug})

    assert (forged.status_code, added.status_code) == (403, 302)
    assert CartLine.objects.get().quantity == 1


def test_looking_at_every_shopper_page_writes_nothing(book):
    order = OrderFactory(items__book=book)
    shopper = Client()
    shopper.post(reverse("cart:add"), {"book": book.slug, "quantity": 1})
    paths = [
        *pages(book),
        reverse("payments:checkout", args=[book.slug]),
        reverse("cart:page"),
        reverse("payments:cart_checkout"),
        order_page_path(number=order.number),
        order_receipt_path(number=order.number),
    ]
    for visitor in (Client(), shopper):
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                # A visitor without a cart is sent from the cart's checkout to the cart.
                assert visitor.get(path).status_code in (200, 302), path
            statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
            assert set(statements) <= {"SELECT"}, (path, statements)
    assert Session.objects.count() == 1  # the shopper's, started by adding to the cart


class CacheDyingAfter(LocMemCache):
    """The test settings' memory cache, failing every call after its first `answers` (class-wide)."""

    answers = 0

    def get(self, *args, **kwargs):
        return self._answer(super().get, *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._answer(super().set, *args, **kwargs)

    def _answer(self, call, *args, **kwargs):
        if CacheDyingAfter.answers <= 0:
            raise ConnectionError("the cache went away")
        CacheDyingAfter.answers -= 1
        return call(*args, **kwargs)


@pytest.mark.parametrize("answers", [1, 2], ids=["dies-before-the-fragment", "dies-before-storing-it"])
def test_a_cache_dying_mid_request_still_gives_the_page(book, settings, caplog, answers):
    visit("/")  # the catalog version exists
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.CacheDyingAfter"}}
    CacheDyingAfter.answers = answers  # the version read, then (maybe) the fragment's miss
    with caplog.at_level(logging.WARNING, logger="shop.catalog.cache"):
        page = visit(pages(book)[1])
    assert "The Dream Machine" in page and "$23.00" in page
    assert "catalog_cache_unavailable" in caplog.messages
