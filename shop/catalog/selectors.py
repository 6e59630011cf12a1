"""Reads of the catalog for the storefront: active books, a book's page, subjects, and the orders
a list of books can be shown in (sold-out books always after those in stock)."""

from django.db.models import Case, F, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from shop.catalog.models import Book, Subject

# ?sort= values: the ordering after "in stock first"; each ends with a unique column, so a page
# boundary never moves between two requests.
BOOK_SORTS = {
    "title": ("title", "id"),
    "newest": (F("publication_year").desc(nulls_last=True), "-created_at", "-id"),
    "price": ("price_amount", "title", "id"),
    "price-desc": ("-price_amount", "title", "id"),
}
# Search results only: best match first (shop/catalog/search.py annotates `rank`).
RELEVANCE_SORT = {"relevance": ("-rank", "title", "id")}
SOLD_OUT_LAST = Case(When(stock=0, then=Value(1)), default=Value(0))


def book_list_active() -> QuerySet[Book]:
    return Book.objects.filter(is_active=True).order_by("title")


def book_list_browse(*, books: QuerySet[Book], sort: str, in_stock_only: bool) -> QuerySet[Book]:
    """`books` in the order `sort` names (a key of BOOK_SORTS or RELEVANCE_SORT), sold-out ones last
    or left out."""
    if in_stock_only:
        books = books.filter(stock__gt=0)
    return books.order_by(SOLD_OUT_LAST, *{**BOOK_SORTS, **RELEVANCE_SORT}[sort])


def book_get_active(*, slug: str) -> Book:
    """The active book with this slug, or Http404."""
    return get_object_or_404(Book, slug=slug, is_active=True)


def book_get_for_page(*, slug: str) -> Book:
    """The active book with this slug and its subjects (one query more, whatever their number), or Http404."""
    return get_object_or_404(Book.objects.prefetch_related("subjects"), slug=slug, is_active=True)


def subject_get(*, slug: str) -> Subject:
    """The subject with this slug, or Http404."""
    return get_object_or_404(Subject, slug=slug)


def book_list_for_subject(*, subject: Subject) -> QuerySet[Book]:
    return book_list_active().filter(subjects=subject)
