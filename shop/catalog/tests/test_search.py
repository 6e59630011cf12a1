"""Search (/search/?q=): title, author, ISBN and description; PostgreSQL's ranked full-text search
or SQLite's icontains, chosen by one selector; a friendly page for a query that cannot be one."""

import importlib
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from shop.catalog.models import Book
from shop.catalog.search import book_search, book_search_words, search_query_clean
from shop.catalog.tests.factories import BookFactory
from shop.catalog.tests.test_browse import head_links, titles
from tests.postgres import postgres_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    return [
        BookFactory(
            title="The Art of Doing Science and Engineering",
            author="Richard Hamming",
            isbn="9780306406157",
            description="Learning to learn, and how great work gets done.",
        ),
        BookFactory(
            title="Working in Public",
            author="Nadia Eghbal",
            description="The making and maintenance of open source software.",
        ),
        BookFactory(
            title="The Dream Machine",
            author="M. Mitchell Waldrop",
            description="Licklider and the revolution that made computing personal: great engineering.",
        ),
        BookFactory(title="Withdrawn Engineering", is_active=False),
    ]


def search(query: str, **params) -> list[str]:
    response = Client().get("/search/", {"q": query, **params})
    assert response.status_code == 200
    return titles(response)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("hamming", ["The Art of Doing Science and Engineering"]),
        ("Eghbal", ["Working in Public"]),
        ("open source", ["Working in Public"]),
        ("licklider", ["The Dream Machine"]),
        ("978-0-306-40615-7", ["The Art of Doing Science and Engineering"]),  # as printed
        ("0-306-40615-2", ["The Art of Doing Science and Engineering"]),  # its ISBN-10
        ("9780306406157", ["The Art of Doing Science and Engineering"]),
        ("dragons", []),
    ],
)
def test_search_finds_active_books_by_title_author_isbn_or_description(shelf, query, found):
    assert search(query) == found


def test_the_search_shows_what_was_searched_and_keeps_it_in_the_box(client, shelf):
    page = client.get("/search/", {"q": "  open   source "}).content.decode()
    assert "Books matching “open source”" in page
    assert 'name="q" value="open source"' in page
    assert '<input type="hidden" name="q" value="open source">' in page  # the sort form keeps it
    assert '<meta name="robots" content="noindex, follow">' in page


def test_no_match_says_so_kindly(client, shelf):
    page = client.get("/search/", {"q": "dragons"}).content.decode()
    assert "No books match “dragons”" in page and "browse all the books" in page


@postgres_only
def test_postgres_ranks_title_and_author_matches_above_description_ones(shelf):
    assert search("engineering") == ["The Art of Doing Science and Engineering", "The Dream Machine"]


@postgres_only
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("learned", ["The Art of Doing Science and Engineering"]),  # English stemming: learn
        ('"open source"', ["Working in Public"]),
        ('"source open"', []),
        ("engineering -hamming", ["The Dream Machine"]),
        ("hamming or eghbal", ["The Art of Doing Science and Engineering", "Working in Public"]),
    ],
)
def test_postgres_takes_websearch_syntax_and_stems_words(shelf, query, found):
    assert sorted(search(query)) == sorted(found)


@postgres_only
def test_postgres_keeps_the_vector_of_a_changed_book_current(shelf):
    book = Book.objects.get(title="The Dream Machine")
    book.title = "The Thinking Machine"
    book.save()
    assert search("thinking") == ["The Thinking Machine"]
    assert Book.objects.filter(search_vector__isnull=True).count() == 0


def test_the_word_fallback_matches_every_word_anywhere_in_the_four_fields(shelf):
    def words(text: str) -> list[str]:
        books = book_search_words(books=Book.objects.filter(is_active=True), text=text)
        return sorted(books.values_list("title", flat=True))

    assert words("ammin") == ["The Art of Doing Science and Engineering"]  # part of a word
    assert words("great engineering") == ["The Art of Doing Science and Engineering", "The Dream Machine"]
    assert words("great public") == []


ABSURD = [
    "",
    "   ",
    "x" * 10_240,
    "a" * 201,
    "?!.,;:-()[]{}«»",
    "\x00",
    "\x00\x00\x00",
    "ham\x00ming",
    "'; DROP TABLE catalog_book; --",
    '"unterminated',
    "-",
    "or or or",
    "!!!(",
    "a & b | c <-> d",
    "work:*",
    "\u202e\u200b",
    "🙂",
    "%_%",
]


@pytest.mark.parametrize("query", ABSURD)
def test_an_empty_or_absurd_query_gets_a_page_never_a_500(client, shelf, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "site-search" in response.content.decode()


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "Type a title, an author, an ISBN"),
        ("\x00 \t\n", "Type a title, an author, an ISBN"),
        ("x" * 10_240, "too long: use at most 200 characters"),
        ("a" * 201, "too long"),
        ("?!.,;:-", "punctuation alone matches nothing"),
    ],
)
def test_what_cannot_be_searched_is_explained(client, raw, problem):
    assert problem in search_query_clean(raw).problem
    assert problem in client.get("/search/", {"q": raw}).content.decode()


def test_control_characters_become_spaces():
    assert search_query_clean("ham\x00ming\u200b \x07 science").text == "ham ming science"


def test_no_q_at_all_invites_a_search(client):
    page = client.get("/search/").content.decode()
    assert "Search the books" in page and "Type a title, an author, an ISBN" in page


def test_results_are_paged_and_sorted_like_the_catalog(client):
    for n in range(1, 31):
        BookFactory(title=f"Lighthouse {n:02d}", price_amount=1000 + n, stock=0 if n == 1 else 5)

    first = client.get("/search/", {"q": "lighthouse", "sort": "price"})
    second = client.get("/search/", {"q": "lighthouse", "sort": "price", "page": "2"})

    assert titles(first)[0] == "Lighthouse 02" and len(titles(first)) == 24
    assert titles(second)[-1] == "Lighthouse 01"  # sold out: last
    assert head_links(first) == {}  # search results are not for crawlers' canonical lists
    assert '/search/?q=lighthouse&amp;sort=price&amp;page=2" rel="next"' in first.content.decode()
    assert client.get("/search/", {"q": "lighthouse", "page": "3"}).status_code == 404
    assert client.get("/search/", {"q": "lighthouse", "page": "two"}).status_code == 404
    assert "1–24 of 30 books" in first.content.decode()


def test_a_search_seen_once_comes_from_the_cache_and_a_new_book_shows_at_once(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    BookFactory(title="Lighthouse keeping")
    assert search("lighthouse") == ["Lighthouse keeping"]
    with django_assert_num_queries(0):
        assert search("LIGHTHOUSE") == ["Lighthouse keeping"]  # the same search
    with django_capture_on_commit_callbacks(execute=True):
        BookFactory(title="Lighthouse stories")
    assert search("lighthouse") == ["Lighthouse keeping", "Lighthouse stories"]


def test_one_selector_serves_both_databases(shelf):
    found = book_search(books=Book.objects.filter(is_active=True), text="hamming")
    assert [(book.title, isinstance(book.rank, float)) for book in found] == [
        ("The Art of Doing Science and Engineering", True)
    ]


@pytest.mark.parametrize("path", ["/", "/cart/", "/books/a-book/", "/subjects/a-subject/", "/search/?q=x"])
def test_every_page_has_the_search_box_in_its_header(client, path):
    from shop.catalog.tests.factories import SubjectFactory

    BookFactory(slug="a-book")
    SubjectFactory(slug="a-subject")
    page = client.get(path).content.decode()
    header = page.split('<header class="site-header">')[1].split("</header>")[0]
    assert re.search(r'<form class="site-search" role="search" method="get" action="/search/">', header)
    assert 'name="q"' in header


def book_indexes() -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Book._meta.db_table)


@postgres_only
def test_postgres_keeps_the_search_vector_in_a_gin_index():
    index = book_indexes()["book_search_vector_gin"]
    assert (index["columns"], index["type"]) == (["search_vector"], "gin")


def test_the_gin_index_is_made_on_postgresql_only():
    assert ("book_search_vector_gin" in book_indexes()) == (connection.vendor == "postgresql")


@postgres_only
def test_the_migration_fills_the_vectors_of_the_books_already_there(shelf):
    Book.objects.update(search_vector=None)
    migration = importlib.import_module("shop.catalog.migrations.0008_book_search_vector")
    state = MigrationLoader(connection).project_state(("catalog", "0008_book_search_vector"))
    migration.vectors_fill(state.apps, SimpleNamespace(connection=connection))
    assert not Book.objects.filter(search_vector__isnull=True).exists()
    assert search("hamming") == ["The Art of Doing Science and Engineering"]


def test_a_number_that_looks_like_an_isbn_but_is_not_one_is_searched_as_text(shelf):
    assert search("978-0-306-40615-8") == []  # the check digit is wrong: no book, no error
    assert search("9780306406157 hamming") == ["The Art of Doing Science and Engineering"]
