"""Kept pages answered before Django's handler (shop/pagecache_front.py), called as gunicorn calls it."""

import io
import re
import sys
import time
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from config import wsgi as entry_point
from shop.cart.models import CartLine
from shop.catalog.tests.factories import BookFactory
from shop.csrf_tokens import random_chars
from shop.pagecache_front import KeptPageFront

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PER_RESPONSE = {"date", "expires", "set-cookie"}


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes, through_django: bool):
        self.status, self.headers, self.body, self.through_django = status, headers, body, through_django
        self.status_code = int(status.split()[0])

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def steady_headers(self) -> list[tuple[str, str]]:
        return sorted((key.lower(), value) for key, value in self.headers if key.lower() not in PER_RESPONSE)

    def cookie(self) -> SimpleCookie:
        return SimpleCookie(self.header("Set-Cookie"))

    def token(self) -> str:
        return CSRF_INPUT.search(self.body.decode()).group(1)

    def body_without_token(self) -> str:
        return CSRF_INPUT.sub('value=""', self.body.decode())


def wsgi(path: str, *, method="GET", secure=True, host="testserver", cookie="", **extra) -> Answer:
    """One request through the entry point config/wsgi.py makes, its environ as gunicorn builds it.

    Made anew for each request, as the test client's handler, so its middleware reads the test's settings.
    """
    application = KeptPageFront(WSGIHandler())
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "https" if secure else "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **({"HTTP_COOKIE": cookie} if cookie else {}),
        **extra,
    }
    started = []

    def note(**kwargs):
        started.append(True)

    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    # As Django's test client: the test's transaction must outlive the request's connection checks.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.connect(note)
    try:
        chunks = application(environ, start_response)
        body = b"".join(chunks)
        getattr(chunks, "close", lambda: None)()
    finally:
        request_started.disconnect(note)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return Answer(answer["status"], answer["headers"], body, through_django=bool(started))


def test_the_wsgi_entry_point_is_the_front_around_djangos_handler():
    assert isinstance(entry_point.application, KeptPageFront)
    assert entry_point.application.application is entry_point.django_application
    assert isinstance(entry_point.django_application, WSGIHandler)


@pytest.fixture
def book():
    return BookFactory(title="The Dream Machine", slug="dream-machine", price_amount=2300, stock=20)


def kept_paths(book) -> list[str]:
    return [
        "/",
        reverse("catalog:book_detail", args=[book.slug]),
        reverse("payments:checkout", args=[book.slug]),
    ]


@pytest.mark.parametrize("page", [0, 1, 2], ids=["catalog", "book", "checkout"])
def test_the_next_blank_visitor_is_answered_before_django_with_the_same_page_and_headers(book, page):
    path = kept_paths(book)[page]
    first = wsgi(path)
    assert first.through_django
    assert first.status_code == 200

    second = wsgi(path)

    assert not second.through_django
    assert second.status == "200 OK"
    assert second.steady_headers() == first.steady_headers()
    assert second.body_without_token() == first.body_without_token()
    assert second.header("Content-Length") == str(len(second.body))
    assert (second.header("Expires") is None) is (first.header("Expires") is None)


def test_the_cookie_is_the_one_djangos_csrf_middleware_sends(book, settings):
    settings.CSRF_COOKIE_HTTPONLY = True  # a setting changed: the header is made again
    settings.CSRF_COOKIE_DOMAIN = "testserver"
    first = wsgi("/")
    second = wsgi("/")
    assert not second.through_django
    mine, djangos = second.cookie()[settings.CSRF_COOKIE_NAME], first.cookie()[settings.CSRF_COOKIE_NAME]
    assert mine.value != djangos.value
    assert {k: v for k, v in mine.items() if k != "expires"} == {
        k: v for k, v in djangos.items() if k != "expires"
    }
    assert mine["httponly"] is True and mine["domain"] == "testserver" and mine["samesite"] == "Lax"
    expires = parsedate_to_datetime(mine["expires"]).timestamp()
    assert abs(expires - (time.time() + settings.CSRF_COOKIE_AGE)) < 3


def test_a_new_visitors_token_and_cookie_pass_djangos_csrf_check(book):
    wsgi("/")
    answer = wsgi("/")
    assert not answer.through_django
    secret = answer.cookie()[settings.CSRF_COOKIE_NAME].value
    assert _unmask_cipher_token(answer.token()) == secret
    shopper = Client(enforce_csrf_checks=True)
    shopper.cookies[settings.CSRF_COOKIE_NAME] = secret
    add = reverse("cart:add")

    assert (
        shopper.post(add, {"csrfmiddlewaretoken": "x" * 64, "book": book.slug, "quantity": 1}).status_code
        == 403
    )
    response = shopper.post(add, {"csrfmiddlewaretoken": answer.token(), "book": book.slug, "quantity": 1})

    assert response.status_code == 302
    assert CartLine.objects.get().quantity == 1


def test_a_visitor_with_a_csrf_cookie_keeps_its_secret_in_a_new_mask(book):
    wsgi("/")
    secret = random_chars(32)
    first, second = (wsgi("/", cookie=f"{settings.CSRF_COOKIE_NAME}={secret}; theme=dark") for _ in range(2))
    assert not first.through_django and not second.through_django
    assert first.token() != second.token()
    assert _unmask_cipher_token(first.token()) == _unmask_cipher_token(second.token()) == secret
    assert first.cookie()[settings.CSRF_COOKIE_NAME].value == secret  # sent again: its expiry renewed


def test_two_new_visitors_get_secrets_of_their_own(book):
    wsgi("/")
    answers = [wsgi("/") for _ in range(2)]
    secrets = {answer.cookie()[settings.CSRF_COOKIE_NAME].value for answer in answers}
    assert len(secrets) == 2


def test_a_change_in_the_admin_shows_on_the_very_next_request(book):
    wsgi("/")
    assert not wsgi("/").through_django
    book.price_amount = 2900
    book.save()

    after = wsgi("/")

    assert after.through_django
    assert "$29.00" in after.body.decode()
    assert not wsgi("/").through_django


@pytest.mark.parametrize(
    "cookie",
    [
        "sessionid=abc",
        "messages=anything",
        "csrftoken=short",
        f"csrftoken={'a' * 64}",  # a masked cookie as older Django wrote: Django unmasks it
        "csrftoken=",
    ],
)
def test_a_visitor_django_must_read_goes_the_whole_way(book, cookie):
    wsgi("/")
    assert wsgi("/", cookie=cookie).through_django


def test_other_methods_hosts_schemes_and_pages_go_to_django(book, settings):
    wsgi("/")
    assert wsgi("/", method="HEAD").through_django
    assert wsgi("/", method="POST").through_django
    unknown = wsgi("/", host="evil.example")
    assert unknown.through_django and unknown.status_code == 400
    assert wsgi("/", host="localhost").through_django  # allowed, but not yet answered for this host
    assert not wsgi("/", host="localhost").through_django
    assert wsgi("/books/no-such-book/").status_code == 404
    assert wsgi("/books/no-such-book/").through_django
    settings.SECURE_SSL_REDIRECT = True
    redirected = wsgi("/", secure=False)
    assert redirected.through_django and redirected.status_code == 301


def test_the_tls_proxys_header_is_part_of_what_was_answered(book, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    assert wsgi("/", secure=False, HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert not wsgi("/", secure=False, HTTP_X_FORWARDED_PROTO="https").through_django
    plain = wsgi("/", secure=False, HTTP_X_FORWARDED_PROTO="http")
    assert plain.through_django and plain.status_code == 301


def test_nothing_is_answered_first_with_the_page_cache_off(book, settings):
    wsgi("/")
    settings.PAGE_CACHE = False
    assert wsgi("/").through_django


def test_a_forwarded_host_counts_only_where_django_trusts_it(book, settings):
    wsgi("/")
    assert not wsgi("/", HTTP_X_FORWARDED_HOST="evil.example").through_django  # ignored by Django too
    settings.USE_X_FORWARDED_HOST = True
    refused = wsgi("/", HTTP_X_FORWARDED_HOST="evil.example")
    assert refused.through_django and refused.status_code == 400
