"""Every page that answers GET answers HEAD: the same status and headers, no body (RFC 9110).

The pages are found from the URL configuration, so a new page without HEAD fails here.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from payments.client_secrets import client_secret_digest
from shop.catalog.models import Subject
from shop.catalog.tests.factories import BookFactory
from shop.orders.access import order_page_path, order_receipt_path
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

POST_ONLY = {
    "payments:create_intent",
    "payments:checkout_discount",
    "payments:webhook",
    "payments:buy_now",
    "cart:add",
    "cart:update",
    "cart:voucher",
}


def url_names(patterns=None, namespace: str = "") -> set[str]:
    """Every named route outside the admin, as "namespace:name"."""
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


@pytest.fixture
def pages(client, stripe_outage) -> dict[str, str]:
    """A URL for every page a shopper (or a load balancer) may GET, with what it needs to show."""
    book = BookFactory(slug="hamming", stock=5)
    book.subjects.add(Subject.objects.create(name="Computing", slug="computing"))
    assert client.post(reverse("cart:add"), {"book": book.slug, "quantity": 1}).status_code == 302
    paid = {"status": OrderStatus.PAID, "amount_received": 2300, "paid_at": timezone.now()}
    order = OrderFactory(total_amount=2300, currency="usd", **paid)
    secret = f"{order.payment_intent_id}_secret_abc"
    Order.objects.filter(pk=order.pk).update(client_secret_hash=client_secret_digest(secret))
    stripe_outage(500)  # the success page shows the paid order from its records
    success = f"{reverse('payments:success')}?payment_intent={order.payment_intent_id}"
    return {
        "catalog:book_list": reverse("catalog:book_list"),
        "catalog:book_detail": reverse("catalog:book_detail", args=[book.slug]),
        "catalog:subject_detail": reverse("catalog:subject_detail", args=["computing"]),
        "catalog:search": f"{reverse('catalog:search')}?q=hamming",
        "cart:page": reverse("cart:page"),
        "payments:cart_checkout": reverse("payments:cart_checkout"),
        "payments:checkout": reverse("payments:checkout", args=[book.slug]),
        "payments:success": f"{success}&payment_intent_client_secret={secret}",
        "orders:find": reverse("orders:find"),
        "orders:detail": order_page_path(number=order.number),
        "orders:receipt": order_receipt_path(number=order.number),
        "healthz": reverse("healthz"),
    }


def test_every_page_answers_head_as_it_answers_get(client: Client, pages):
    assert set(pages) == url_names() - POST_ONLY  # every page is tried

    for name, url in pages.items():
        got, head = client.get(url), client.head(url)

        assert got.status_code == 200, (name, got.status_code)
        assert head.status_code == 200, (name, head.status_code)
        assert head.content == b"", name
        assert head["Content-Type"] == got["Content-Type"], name
