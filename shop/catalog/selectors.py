"""Reads of the catalog for the storefront: active books, a book's page, subjects."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from shop.catalog.models import Book, Subject


def book_list_active() -> QuerySet[Book]:
    return Book.objects.filter(is_active=True).order_by("title")


def book_get_active(*, slug: str) -> Book:
    """The active book with this slug (its subjects fetched with it), or Http404."""
    return get_object_or_404(Book.objects.prefetch_related("subjects"), slug=slug, is_active=True)


def subject_get(*, slug: str) -> Subject:
    """The subject with this slug, or Http404."""
    return get_object_or_404(Subject, slug=slug)


def book_list_for_subject(*, subject: Subject) -> QuerySet[Book]:
    return book_list_active().filter(subjects=subject)
