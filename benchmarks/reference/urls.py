import json
import os
import secrets
from functools import cache
from pathlib import Path

from django.conf import global_settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

# Where `make bench` writes the shop catalog's answer (headers and body) once the shop is up.
CATALOG_RESPONSE = "BENCH_CATALOG_RESPONSE"


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world.\n", content_type="text/plain")


@cache
def _catalog_response() -> dict:
    return json.loads(Path(os.environ[CATALOG_RESPONSE]).read_text())


def catalog_bytes(request: HttpRequest) -> HttpResponse:
    """The shop catalog's bytes from a bare view: body, headers, a new CSRF cookie as for a new visitor.

    What a page of that size costs the server and the client with no shop
    behind it: the shop's pages are compared with this too.
    """
    kept = _catalog_response()
    response = HttpResponse(kept["body"], content_type=kept["content_type"])
    for name, value in kept["headers"]:
        response[name] = value
    response.set_cookie(
        global_settings.CSRF_COOKIE_NAME,
        secrets.token_urlsafe(24),
        max_age=global_settings.CSRF_COOKIE_AGE,
        secure=True,
        samesite=global_settings.CSRF_COOKIE_SAMESITE,
    )
    return response


urlpatterns = [path("", hello), path("catalog-bytes/", catalog_bytes)]
