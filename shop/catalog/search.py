"""Searching the catalog (/search/?q=) over title, author, ISBN and description.

`search_query_clean()` turns what a shopper typed into a query, or says why
there is none: empty, longer than MAX_QUERY_LENGTH, or without a letter or
digit (control characters such as NUL are dropped first). The page shows
that reason instead of results, never an error.

`book_search()` is the one selector, and it picks by the database. On
PostgreSQL it matches Book.search_vector (title, author and ISBN weighted A,
description C, English stemming; a GIN index) against the query in
websearch syntax ("quoted phrases", or, -not) and annotates each book's
`rank`. Elsewhere (SQLite) every word must appear, case-insensitively, in one
of the four fields, and `rank` is 0. A query that is an ISBN (hyphens or
ISBN-10 too) finds that book by its ISBN on both. Books whose vector is
stale are kept current by `book_search_vectors_update()`, called when a book
is saved (shop/catalog/apps.py) and after bulk writes.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import F, FloatField, Q, QuerySet, Value

from shop.catalog.isbn import isbn_normalise
from shop.catalog.models import Book

MAX_QUERY_LENGTH = 200
MAX_WORDS = 10  # the SQLite fallback's words; more only narrow a search already narrow
SEARCH_CONFIG = "english"
BOOK_SEARCH_VECTOR = (
    SearchVector("title", weight="A", config=SEARCH_CONFIG)
    + SearchVector("author", weight="A", config=SEARCH_CONFIG)
    + SearchVector("isbn", weight="A", config=SEARCH_CONFIG)
    + SearchVector("description", weight="C", config=SEARCH_CONFIG)
)
WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class SearchQueryText:
    text: str = ""
    problem: str = ""  # why there is nothing to search for, in words for the shopper


def search_query_clean(raw: str) -> SearchQueryText:
    """The query to search for, or the reason there is none."""
    if len(raw) > MAX_QUERY_LENGTH * 4:  # not worth cleaning character by character
        return SearchQueryText(problem=f"That search is too long: use at most {MAX_QUERY_LENGTH} characters.")
    visible = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in raw)
    text = " ".join(visible.split())
    if not text:
        return SearchQueryText(problem="Type a title, an author, an ISBN or a subject's word to search.")
    if len(text) > MAX_QUERY_LENGTH:
        return SearchQueryText(problem=f"That search is too long: use at most {MAX_QUERY_LENGTH} characters.")
    if not WORD.search(text):
        return SearchQueryText(problem="Search for words or numbers: punctuation alone matches nothing.")
    return SearchQueryText(text=text)


def book_search(*, books: QuerySet[Book], text: str) -> QuerySet[Book]:
    """`books` matching `text` (a cleaned query), each annotated with its `rank`."""
    isbn = _isbn_or_empty(text)
    if isbn:
        return books.filter(isbn=isbn).annotate(rank=Value(1.0, output_field=FloatField()))
    if connections[books.db].vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return books.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
    return book_search_words(books=books, text=text)


def book_search_words(*, books: QuerySet[Book], text: str) -> QuerySet[Book]:
    """The fallback where full-text search is not at hand (SQLite): every word in one of the fields."""
    matches = Q()
    for word in text.split()[:MAX_WORDS]:
        matches &= (
            Q(title__icontains=word)
            | Q(author__icontains=word)
            | Q(isbn__icontains=word)
            | Q(description__icontains=word)
        )
    return books.filter(matches).annotate(rank=Value(0.0, output_field=FloatField()))


def book_search_vectors_update(*, books: QuerySet[Book]) -> None:
    """Recompute the search vector of `books` (one UPDATE); nothing to do off PostgreSQL."""
    if connections[books.db].vendor == "postgresql":
        books.update(search_vector=BOOK_SEARCH_VECTOR)


def _isbn_or_empty(text: str) -> str:
    if not re.fullmatch(r"[\dXx -]{10,17}", text):
        return ""
    try:
        return isbn_normalise(text)
    except ValidationError:
        return ""
