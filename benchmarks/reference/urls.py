"""The reference's one page: a small plain-text response, the least a Django view can send."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world.\n", content_type="text/plain")


urlpatterns = [path("", hello)]
