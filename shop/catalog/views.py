from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from shop.catalog.selectors import book_get_active, book_list_active


@require_safe
def book_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/book_list.html", {"books": book_list_active()})


@require_safe
def book_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "catalog/book_detail.html", {"book": book_get_active(slug=slug)})
