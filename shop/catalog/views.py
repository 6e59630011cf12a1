from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from shop.catalog.selectors import book_get_active, book_list_active


@require_safe
def book_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/book_list.html", {"books": book_list_active()})


@require_safe
def book_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "catalog/book_detail.html", {"book": book_get_active(slug=slug)})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
