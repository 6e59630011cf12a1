import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


class _LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def strip_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def links(response) -> list[str]:
    collector = _LinkCollector()
    collector.feed(response.content.decode())
    return collector.hrefs


def test_book_list_shows_active_books_with_price_and_checkout_link(client):
    hamming = BookFactory(
        title="The Art of Doing Science and Engineering",
        author="Richard Hamming",
        slug="art-of-doing",
        price_amount=2300,
    )
    eghbal = BookFactory(
        title="Working in Public", author="Nadia Eghbal", slug="working-in-public", price_amount=2850
    )

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    hrefs = links(response)
    for book, price in [(hamming, "$23.00"), (eghbal, "$28.50")]:
        assert book.title in page
        assert book.author in page
        assert price in page
        assert f"/checkout/{book.slug}/" in hrefs


def test_book_list_hides_inactive_books(client):
    BookFactory(title="On The Shelf", slug="on-the-shelf")
    BookFactory(title="Out Of Print", slug="out-of-print", is_active=False)

    response = client.get("/")

    page = response.content.decode()
    assert "On The Shelf" in page
    assert "Out Of Print" not in page
    assert not any("out-of-print" in href for href in links(response))


def test_book_list_without_books_still_renders(client):
    BookFactory(is_active=False)
    response = client.get("/")
    assert response.status_code == 200


def test_book_detail_shows_one_book(client):
    book = BookFactory(
        title="Stubborn Attachments",
        author="Tyler Cowen",
        slug="stubborn-attachments",
        description="A vision for a society of free and prosperous individuals.",
        price_amount=2000,
        currency="eur",
    )
    BookFactory(title="Another Title Entirely", slug="another")

    response = client.get("/books/stubborn-attachments/")

    assert response.status_code == 200
    page = response.content.decode()
    assert book.title in page
    assert book.author in page
    assert book.description in page
    assert "€20.00" in page
    assert 'formaction="/checkout/stubborn-attachments/buy/"' in page  # Buy now, with the quantity
    assert "Another Title Entirely" not in page


def test_book_detail_404_for_inactive_book(client):
    BookFactory(slug="withdrawn", is_active=False)
    assert client.get("/books/withdrawn/").status_code == 404


@pytest.mark.parametrize("path", ["/books/no-such-book/", "/books/", "/books/bad%20slug/"])
def test_unknown_book_is_404(client, path):
    BookFactory(slug="a-real-book")
    assert client.get(path).status_code == 404


def test_book_list_query_count_does_not_grow_with_books(client, settings, django_assert_num_queries):
    settings.CATALOG_CACHE_SECONDS = 0  # rendered on every request
    BookFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/").status_code == 200
    assert len(few.captured_queries) >= 1

    BookFactory.create_batch(27)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/")
    assert response.content.decode().count("/checkout/") == 24  # a full page


@pytest.mark.parametrize("path", ["/", "/books/a-real-book/"])
def test_a_catalog_page_from_the_cache_costs_no_query(client, django_assert_num_queries, path):
    BookFactory(slug="a-real-book")
    BookFactory.create_batch(30)
    first = client.get(path)
    with django_assert_num_queries(0):  # no session cookie: no cart to count either
        again = client.get(path)
    assert again.status_code == first.status_code == 200
    assert strip_csrf(again) == strip_csrf(first)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/", "/books/a-real-book/"])
def test_storefront_refuses_non_get_methods(client, method, path):
    BookFactory(slug="a-real-book")
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("url", ["/", "/healthz"])
def test_load_balancers_may_check_with_head(client, url):
    response = client.head(url)
    assert response.status_code == 200
