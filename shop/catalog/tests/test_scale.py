"""A catalog of 10,000 books (seeded in bulk as `seed_catalog --books 10000` seeds it): each
storefront page and the admin's book list take the same few queries as with a handful of books
(test_browse.py checks those numbers on a small catalog)."""

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.catalog.demo import demo_books_seed
from shop.catalog.models import Book, Subject

BOOKS = 10_000
# Queries of each page rendered fresh (CATALOG_CACHE_SECONDS=0); none while its fragment is cached.
QUERY_BUDGET = {
    "catalog": 2,  # how many books, their page
    "catalog, page 300 by price, in stock": 2,
    "subject": 3,  # the subject, how many books, their page
    "search for a common word": 2,
    "book": 2,  # the book, its subjects
}
# The admin's book list: the session, the user, the subject and currency filters' choices, the
# filtered and the full count, the page, the cart count of the shop's context processor.
ADMIN_QUERY_BUDGET = 8


@pytest.fixture(scope="module")
def big_catalog(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        demo_books_seed(count=BOOKS, seed=27)
        yield
        Book.subjects.through.objects.all().delete()
        Book.objects.all().delete()
        Subject.objects.all().delete()


def storefront_paths() -> dict[str, str]:
    subject = Subject.objects.get(slug="engineering")
    book = Book.objects.order_by("id")[BOOKS // 2]
    return {
        "catalog": "/",
        "catalog, page 300 by price, in stock": "/?sort=price&in_stock=1&page=300",
        "subject": subject.get_absolute_url(),
        "search for a common word": "/search/?q=machine",
        "book": book.get_absolute_url(),
    }


def queries_of(client: Client, path: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries.captured_queries), response.content.decode()


@pytest.mark.django_db
def test_every_storefront_page_takes_a_few_queries_at_10000_books(big_catalog, settings):
    settings.CATALOG_CACHE_SECONDS = 0  # rendered on every request
    assert Book.objects.count() == BOOKS
    counts = {}
    for name, path in storefront_paths().items():
        counts[name], page = queries_of(Client(), path)
        if name != "book":
            assert page.count('class="book-card"') == 24, name  # a full page, never the whole catalog
    assert counts == QUERY_BUDGET


@pytest.mark.django_db
def test_a_common_word_matches_thousands_and_shows_24(big_catalog, settings):
    settings.CATALOG_CACHE_SECONDS = 0
    page = Client().get("/search/", {"q": "machine"}).content.decode()
    total = int(re.search(r"1–24 of ([\d,]+) books", page).group(1).replace(",", ""))
    assert total > 500


@pytest.mark.django_db
def test_a_cached_page_costs_no_query_at_10000_books(big_catalog, django_assert_num_queries):
    for path in storefront_paths().values():
        Client().get(path)
        with django_assert_num_queries(0):
            assert Client().get(path).status_code == 200


@pytest.mark.django_db
def test_the_admin_book_list_pages_searches_and_filters_in_a_few_queries(big_catalog):
    staff = Client()
    staff.force_login(User.objects.create_superuser("admin", "admin@example.com", "x"))
    listing = reverse("admin:catalog_book_changelist")
    engineering = Subject.objects.get(slug="engineering")
    views = {
        "first page": {},
        "page 50": {"p": "50"},
        "search by title": {"q": "machine"},
        "search by author": {"q": Book.objects.order_by("id")[77].author.split()[-1]},
        "search by ISBN": {"q": Book.objects.order_by("id")[99].isbn_display},
        "by subject": {"subjects__id__exact": str(engineering.pk)},
        "sold out": {"stock": "sold_out"},
        "by subject, in stock, searched": {
            "subjects__id__exact": str(engineering.pk),
            "stock": "in_stock",
            "q": "the",
        },
    }
    counts = {}
    for name, params in views.items():
        with CaptureQueriesContext(connection) as queries:
            response = staff.get(listing, params)
        assert response.status_code == 200, name
        assert response.context["cl"].result_count > 0, name
        assert len(response.context["cl"].result_list) <= 100, name
        counts[name] = len(queries.captured_queries)
    assert counts == dict.fromkeys(views, ADMIN_QUERY_BUDGET)
