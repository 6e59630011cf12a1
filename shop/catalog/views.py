"""The storefront: the book list, a subject's books and a book's page.

The books' part of each page is rendered once per catalog version and kept in
the cache (shop/catalog/cache.py); the rest (the header's cart count, flash
messages, the add-to-cart form with this visitor's CSRF token) is rendered for
each request.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from shop.catalog.cache import catalog_fragment
from shop.catalog.selectors import book_get_active, book_list_active, book_list_for_subject, subject_get


@require_safe
def book_list(request: HttpRequest) -> HttpResponse:
    grid = catalog_fragment(
        "book-list", lambda: render_to_string("catalog/_book_grid.html", {"books": book_list_active()})
    )
    return render(request, "catalog/book_list.html", {"book_grid": grid})


@require_safe
def book_detail(request: HttpRequest, slug: str) -> HttpResponse:
    def book_page() -> dict:
        book = book_get_active(slug=slug)  # Http404 for a missing book: nothing is cached for it
        return {"title": book.title, "html": render_to_string("catalog/_book.html", {"book": book})}

    page = catalog_fragment(f"book:{slug}", book_page)
    return render(
        request, "catalog/book_detail.html", {"book_title": page["title"], "book_html": page["html"]}
    )


@require_safe
def subject_detail(request: HttpRequest, slug: str) -> HttpResponse:
    def subject_page() -> dict:
        subject = subject_get(slug=slug)  # Http404 for a missing subject: nothing is cached for it
        books = book_list_for_subject(subject=subject)
        return {"name": subject.name, "html": render_to_string("catalog/_book_grid.html", {"books": books})}

    page = catalog_fragment(f"subject:{slug}", subject_page)
    return render(
        request, "catalog/subject_detail.html", {"subject_name": page["name"], "book_grid": page["html"]}
    )
