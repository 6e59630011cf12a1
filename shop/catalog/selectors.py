from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from shop.catalog.models import Book


def book_list_active() -> QuerySet[Book]:
    return Book.objects.filter(is_active=True).order_by("title")


def book_get_active(*, slug: str) -> Book:
    """The active book with this slug, or Http404."""
    return get_object_or_404(Book, slug=slug, is_active=True)
