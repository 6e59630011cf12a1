"""Browsing the catalog and a subject: 24 books a page, sorts, in stock only, crawlable links,
a 404 (never a 500) for a page that cannot be, each page cached on its own."""

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shop.catalog.tests.factories import BookFactory, SubjectFactory
from shop.catalog.tests.test_views import links

pytestmark = pytest.mark.django_db

SITE = "https://shop.stripe-press.test"  # SITE_URL in the test settings


def titles(response) -> list[str]:
    return re.findall(r'class="book-card__link" href="[^"]+">([^<]+)</a>', response.content.decode())


def head_links(response) -> dict[str, str]:
    head = response.content.decode().split("</head>")[0]
    found = re.findall(r'<link rel="(canonical|prev|next)" href="([^"]*)">', head)
    return {rel: html.unescape(href) for rel, href in found}


@pytest.fixture
def shelf():
    """30 books titled Book 01 … Book 30."""
    return [BookFactory(title=f"Book {n:02d}", slug=f"book-{n:02d}") for n in range(1, 31)]


def test_a_page_shows_24_books_and_links_to_the_next(client, shelf):
    first = client.get("/")
    second = client.get("/?page=2")

    assert titles(first) == [f"Book {n:02d}" for n in range(1, 25)]
    assert titles(second) == [f"Book {n:02d}" for n in range(25, 31)]
    assert head_links(first) == {"canonical": f"{SITE}/", "next": "/?page=2"}
    assert head_links(second) == {"canonical": f"{SITE}/?page=2", "prev": "/"}
    assert "/?page=2" in links(first) and "/" in links(second)
    assert "1–24 of 30 books" in first.content.decode()
    assert 'aria-current="page"><span class="visually-hidden">Page </span>2</a>' in second.content.decode()
    assert "<title>Books, page 2 · Stripe Press</title>" in second.content.decode()


def test_page_one_asked_for_by_number_names_the_plain_url_as_canonical(client, shelf):
    assert head_links(client.get("/?page=1&utm_source=newsletter")) == {
        "canonical": f"{SITE}/",
        "next": "/?page=2",
    }


@pytest.mark.parametrize(
    "page", ["3", "0", "-1", "abc", "1.5", "", "9" * 20, "2\x00", "١", "1e3", " 2", "999999"]
)
def test_a_page_that_cannot_be_is_404_never_500(client, shelf, page):
    assert client.get("/", {"page": page}).status_code == 404


def test_an_empty_catalog_has_its_first_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "There are no books for sale right now." in response.content.decode()
    assert client.get("/?page=2").status_code == 404


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["Alpha", "Beta", "Gamma", "Delta (sold out)"]),
        ("newest", ["Beta", "Alpha", "Gamma", "Delta (sold out)"]),  # a book without a year last
        ("price", ["Gamma", "Alpha", "Beta", "Delta (sold out)"]),
        ("price-desc", ["Beta", "Alpha", "Gamma", "Delta (sold out)"]),
        ("nonsense", ["Alpha", "Beta", "Gamma", "Delta (sold out)"]),
    ],
)
def test_books_sort_by_title_newest_or_price_with_sold_out_ones_last(client, sort, expected):
    BookFactory(title="Alpha", publication_year=1990, price_amount=2000)
    BookFactory(title="Beta", publication_year=2021, price_amount=3000)
    BookFactory(title="Gamma", publication_year=None, price_amount=1000)
    BookFactory(title="Delta (sold out)", publication_year=2024, price_amount=500, stock=0)
    assert titles(client.get("/", {"sort": sort})) == expected


def test_in_stock_only_hides_sold_out_books_and_links_keep_the_choice(client):
    for n in range(1, 27):
        BookFactory(title=f"In stock {n:02d}")
    BookFactory(title="Sold out", stock=0)

    response = client.get("/", {"in_stock": "1", "sort": "price"})

    assert "Sold out" not in titles(response)
    assert len(titles(response)) == 24
    assert head_links(response)["next"] == "/?sort=price&in_stock=1&page=2"
    assert head_links(response)["canonical"] == f"{SITE}/?sort=price&in_stock=1"
    page = response.content.decode()
    assert '<meta name="robots" content="noindex, follow">' in page  # a sorted copy of the list
    assert '<option value="price" selected>' in page and 'name="in_stock" value="1" checked' in page
    assert '<meta name="robots"' not in client.get("/").content.decode()


def test_a_subject_page_pages_and_sorts_its_own_books(client):
    subject = SubjectFactory(name="Essays", slug="essays")
    for n in range(1, 27):
        BookFactory(title=f"Essay {n:02d}", price_amount=1000 + n, subjects=[subject])
    BookFactory(title="Not an essay")

    first = client.get("/subjects/essays/", {"sort": "price-desc"})
    second = client.get("/subjects/essays/", {"sort": "price-desc", "page": "2"})

    assert titles(first)[:2] == ["Essay 26", "Essay 25"] and len(titles(first)) == 24
    assert titles(second) == ["Essay 02", "Essay 01"]
    assert head_links(second) == {
        "canonical": f"{SITE}/subjects/essays/?sort=price-desc&page=2",
        "prev": "/subjects/essays/?sort=price-desc",
    }
    assert client.get("/subjects/essays/?page=3").status_code == 404
    assert client.get("/subjects/essays/?page=x").status_code == 404


def test_each_page_sort_and_filter_is_cached_on_its_own(shelf, django_assert_num_queries):
    pages = ["/", "/?page=2", "/?sort=price", "/?in_stock=1", "/subjects/none/"]
    SubjectFactory(slug="none")
    first = {path: Client().get(path).content.decode() for path in pages}
    with django_assert_num_queries(0):
        again = {path: Client().get(path).content.decode() for path in pages}
    assert len({re.sub(r'value="[^"]{20,}"', "", html) for html in again.values()}) == len(pages)
    assert {path: titles_of(html) for path, html in again.items()} == {
        path: titles_of(html) for path, html in first.items()
    }


def titles_of(html: str) -> list[str]:
    return re.findall(r'class="book-card__link" href="[^"]+">([^<]+)</a>', html)


def test_the_sort_form_is_a_plain_get_form(client, shelf):
    page = client.get("/").content.decode()
    form = re.search(r'<form class="browse-controls" method="get" action="">.*?</form>', page, re.S).group(0)
    assert 'name="sort"' in form and 'name="in_stock"' in form and "csrfmiddlewaretoken" not in form


def test_each_page_takes_the_same_queries_with_a_handful_of_books_as_with_10000(settings):
    from shop.catalog.tests.test_scale import QUERY_BUDGET

    settings.CATALOG_CACHE_SECONDS = 0
    engineering = SubjectFactory(slug="engineering")
    books = [BookFactory(title=f"Machine {n}", subjects=[engineering], stock=n) for n in range(3)]
    paths = {
        "catalog": "/",
        "catalog, page 300 by price, in stock": "/?sort=price&in_stock=1",  # the only page there is
        "subject": engineering.get_absolute_url(),
        "search for a common word": "/search/?q=machine",
        "book": books[1].get_absolute_url(),
    }
    counts = {}
    for name, path in paths.items():
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(path).status_code == 200
        counts[name] = len(queries.captured_queries)
    assert counts == QUERY_BUDGET
