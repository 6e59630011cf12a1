from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from shop.catalog.selectors import book_get_active, book_list_active
from shop.pagecache import page_render


@require_safe
def book_list(request: HttpRequest) -> HttpResponse:
    return page_render(request, "catalog/book_list.html", lambda: {"books": book_list_active()})


@require_safe
def book_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # A missing book raises Http404 only when rendered: a cached page exists only for a real one.
    return page_render(request, "catalog/book_detail.html", lambda: {"book": book_get_active(slug=slug)})
