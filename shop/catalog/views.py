"""The storefront: the book list, a subject's books, search results and a book's page.

The books' part of each page is rendered once per catalog version (and per
sort, filter and page for the lists) and kept in the cache
(shop/catalog/cache.py); the rest (the header's cart count, flash messages,
the add-to-cart form with this visitor's CSRF token, the sort form) is
rendered for each request.
"""

import hashlib

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from shop.catalog.browse import browse_controls, browse_fragment, browse_params
from shop.catalog.cache import catalog_fragment
from shop.catalog.search import book_search, search_query_clean
from shop.catalog.selectors import (
    BOOK_SORTS,
    RELEVANCE_SORT,
    book_get_for_page,
    book_list_active,
    book_list_browse,
    book_list_for_subject,
    subject_get,
)


@require_safe
def book_list(request: HttpRequest) -> HttpResponse:
    params = browse_params(request.GET, sorts=BOOK_SORTS)

    def books_page() -> dict:
        books = book_list_browse(
            books=book_list_active(), sort=params.sort, in_stock_only=params.in_stock_only
        )
        return browse_fragment(books=books, params=params, path=request.path)

    page = catalog_fragment(f"list:{params.key}", books_page)
    controls = browse_controls(params=params, sorts=BOOK_SORTS)
    return render(request, "catalog/book_list.html", {"books_page": page, "controls": controls})


@require_safe
def subject_detail(request: HttpRequest, slug: str) -> HttpResponse:
    params = browse_params(request.GET, sorts=BOOK_SORTS)

    def subject_page() -> dict:
        subject = subject_get(slug=slug)  # Http404 for a missing subject: nothing is cached for it
        books = book_list_browse(
            books=book_list_for_subject(subject=subject), sort=params.sort, in_stock_only=params.in_stock_only
        )
        return {"name": subject.name, **browse_fragment(books=books, params=params, path=request.path)}

    page = catalog_fragment(f"subject:{slug}:{params.key}", subject_page)
    controls = browse_controls(params=params, sorts=BOOK_SORTS)
    return render(request, "catalog/subject_detail.html", {"books_page": page, "controls": controls})


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    query = search_query_clean(request.GET.get("q", ""))
    context = {"search_query": query.text, "problem": query.problem}
    if query.problem:
        return render(request, "catalog/search.html", context)
    sorts = [*RELEVANCE_SORT, *BOOK_SORTS]
    params = browse_params(request.GET, sorts=sorts, extra={"q": query.text})

    def results_page() -> dict:
        found = book_search(books=book_list_active(), text=query.text)
        books = book_list_browse(books=found, sort=params.sort, in_stock_only=params.in_stock_only)
        return browse_fragment(books=books, params=params, path=request.path)

    digest = hashlib.sha256(query.text.casefold().encode()).hexdigest()[:32]  # any text, a short safe key
    page = catalog_fragment(f"search:{digest}:{params.key}", results_page)
    controls = browse_controls(params=params, sorts=sorts)
    return render(request, "catalog/search.html", {**context, "books_page": page, "controls": controls})


@require_safe
def book_detail(request: HttpRequest, slug: str) -> HttpResponse:
    def book_page() -> dict:
        book = book_get_for_page(slug=slug)  # Http404 for a missing book: nothing is cached for it
        return {"title": book.title, "html": render_to_string("catalog/_book.html", {"book": book})}

    page = catalog_fragment(f"book:{slug}", book_page)
    return render(
        request, "catalog/book_detail.html", {"book_title": page["title"], "book_html": page["html"]}
    )
