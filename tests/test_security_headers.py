"""Security headers on every kind of response, and a CSP that pages actually comply with."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from payments.csp import stripe_js_sources
from payments.models import WebhookEvent
from shop.catalog.tests.factories import BookFactory
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, <style>, style= and on*= attributes."""

    def __init__(self):
        super().__init__()
        self.blocked: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        data_block = (attributes.get("type") or "").endswith("json")
        if tag == "script" and "src" not in attributes and not data_block:
            self._in_inline_script = True
        if tag == "style":
            self.blocked.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.blocked.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.blocked.append(f"<script>{data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_code(response) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    return finder.blocked


def assert_security_headers(response):
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert 'payment=(self "https://js.stripe.com")' in response["Permissions-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


STRICT = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", " * ", "http:")


def assert_no_stripe_origin(response):
    header = response["Content-Security-Policy"]
    assert "stripe" not in header, header


def test_the_storefront_allows_no_stripe_origin_and_nothing_inline(client):
    book = BookFactory()
    for url in ["/", book.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 200
        assert_security_headers(response)
        assert_no_stripe_origin(response)
        directives = csp_directives(response)
        assert directives["script-src"] == ["'self'"]
        assert directives["connect-src"] == ["'self'"]
        assert directives["img-src"] == ["'self'", "data:"]
        assert directives["style-src"] == ["'self'"]
        assert "frame-src" not in directives  # default-src 'self'
        for relaxation in STRICT:
            assert relaxation not in response["Content-Security-Policy"]


def test_the_checkout_page_allows_stripe_js(client, settings):
    settings.STRIPE_API_BASE = ""
    book = BookFactory()
    response = client.get(reverse("payments:checkout", args=[book.slug]))
    assert response.status_code == 200
    assert_security_headers(response)
    directives = csp_directives(response)
    assert directives["script-src"][:2] == ["'self'", "https://js.stripe.com"]
    assert {"https://js.stripe.com", "https://hooks.stripe.com"} <= set(directives["frame-src"])
    assert directives["connect-src"] == ["'self'", "https://api.stripe.com", "https://m.stripe.network"]
    assert directives["img-src"] == ["'self'", "data:", "https://*.stripe.com"]
    assert directives["style-src"] == ["'self'"]
    for relaxation in STRICT:
        assert relaxation not in response["Content-Security-Policy"]


def test_the_success_page_loads_no_stripe_js_and_allows_none(client):
    response = client.get(reverse("payments:success"))
    assert "js.stripe.com" not in response.content.decode()
    assert_no_stripe_origin(response)


def test_json_answers_carry_the_headers(client):
    response = client.get(reverse("payments:create_intent"))
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert_security_headers(response)


def test_not_found_pages_carry_the_headers(client):
    response = client.get("/books/no-such-book/")
    assert response.status_code == 404
    assert_security_headers(response)


def test_hsts_on_https(client):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]


def test_the_emulator_origin_is_allowed_on_the_checkout_page_only(client, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    book = BookFactory()
    checkout = client.get(reverse("payments:checkout", args=[book.slug]))
    assert csp_directives(checkout)["connect-src"][-1] == "http://127.0.0.1:8420"
    assert "8420" not in client.get("/")["Content-Security-Policy"]
    connect = stripe_js_sources(stripe_api_base="https://api.stripe.com/v1")["connect-src"]
    assert connect.count("https://api.stripe.com") == 1


def test_report_only_mode(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    book = BookFactory()
    response = client.get(reverse("payments:checkout", args=[book.slug]))
    assert "Content-Security-Policy" not in response
    assert "script-src 'self' https://js.stripe.com" in response["Content-Security-Policy-Report-Only"]
    storefront = client.get("/")
    assert "script-src 'self';" in storefront["Content-Security-Policy-Report-Only"] + ";"


def test_shop_pages_have_no_inline_code(client, settings):
    """What the CSP would block must not exist: pages keep working under it."""
    settings.STRIPE_API_BASE = ""
    book = BookFactory(slug="hamming")
    for url in ["/", book.get_absolute_url(), reverse("payments:checkout", args=[book.slug])]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_code(response) == [], url


def test_checkout_page_under_offline_mode_has_no_inline_code(client, settings):
    settings.STRIPE_OFFLINE_MODE = True
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    book = BookFactory(slug="mechner")
    response = client.get(reverse("payments:checkout", args=[book.slug]))
    assert response.status_code == 200
    assert inline_code(response) == []
    assert "http://127.0.0.1:8420" in csp_directives(response)["connect-src"]


@pytest.fixture
def staff_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_pages_carry_the_headers_and_work_under_the_csp(staff_client):
    """Django's admin uses static JS/CSS only; the policy needs no relaxation there."""
    order = OrderFactory()
    event = WebhookEvent.objects.create(
        stripe_event_id="evt_csp", type="payment_intent.succeeded", payload={"id": "evt_csp"}, order=order
    )
    urls = [
        reverse("admin:index"),
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:catalog_book_changelist"),
        reverse("admin:catalog_book_add"),
        reverse("admin:payments_webhookevent_changelist"),
        reverse("admin:payments_webhookevent_change", args=[event.pk]),
    ]
    for url in urls:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response)
        assert_no_stripe_origin(response)
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert inline_code(response) == [], url


def test_admin_login_page(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert_security_headers(response)
    assert_no_stripe_origin(response)
    assert inline_code(response) == []


def test_inline_code_finder_finds_what_csp_blocks():
    """The checker above can fail: it spots each kind of inline code."""
    finder = InlineCodeFinder()
    finder.feed(
        '<script>alert(1)</script><script type="application/json">{"a": 1}</script>'
        '<script src="/static/x.js"></script><style>p{}</style><p style="color:red" onclick="x()">'
        '<a href="javascript:void(0)">'
    )
    assert len(finder.blocked) == 5


def test_debug_error_pages_stay_readable(client, settings):
    """Django's technical 404/500 pages (DEBUG only) are inline-styled: no CSP on them."""
    settings.DEBUG = True
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response
    settings.DEBUG = False
    assert "Content-Security-Policy" in client.get("/no-such-page/")


def test_a_changed_policy_setting_is_followed(client, settings):
    assert "img-src 'self' data:" in client.get("/healthz")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'self'"], "img-src": ["https://cdn.test"]}
    }
    assert "img-src https://cdn.test" in client.get("/healthz")["Content-Security-Policy"]
