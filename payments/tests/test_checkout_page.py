"""GET /checkout/<slug>/ and the Stripe client factory."""

import json
import logging

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from payments.exceptions import StripeNotConfigured
from payments.stripe_client import stripe_client, stripe_dashboard_url
from payments.tests.checkout import one_book_body
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order

pytestmark = pytest.mark.django_db


def checkout_config(response) -> dict:
    page = response.content.decode()
    start = page.index('<script id="checkout-config" type="application/json">') + len(
        '<script id="checkout-config" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


def test_renders_the_payment_element_configuration_from_the_database(client, book, settings):
    response = client.get(reverse("payments:checkout", args=[book.slug]))

    assert response.status_code == 200
    config = checkout_config(response)
    assert config == {
        "publishableKey": "pk_test_stripe_press_suite",
        "book": book.slug,
        "quantity": 1,
        "amount": 2799,  # the book and shipping
        "expectedTotal": 2799,
        "voucherCode": "",
        "currency": "usd",
        "shippingCountries": settings.SHIPPING_COUNTRIES,
        "createIntentUrl": "/payments/create-intent/",
        "discountUrl": "/payments/discount/",
        "cartUrl": "/cart/",
        "returnUrl": "http://testserver/payments/success/",
    }
    page = response.content.decode()
    assert 'src="https://js.stripe.com/v3/"' in page
    assert "stripe-standin" not in page  # production page: never the offline stand-in
    assert 'id="payment-element"' in page
    assert 'id="address-element"' in page
    assert "$4.99" in page and "$27.99" in page  # shipping and total shown before paying
    assert "sk_test" not in page  # the secret key never reaches a browser
    assert response.cookies["csrftoken"].value


def test_buy_now_checks_out_the_quantity_chosen_on_the_book_page(client, book):
    response = client.post(
        reverse("payments:buy_now", args=[book.slug]), {"book": book.slug, "quantity": "3"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/checkout/{book.slug}/?quantity=3"

    page = client.get(response["Location"])
    config = checkout_config(page)
    assert (config["quantity"], config["amount"], config["expectedTotal"]) == (3, 6900, 6900)  # free shipping
    text = page.content.decode()
    assert '3 × $23.00 = <span class="price">$69.00</span>' in text
    assert "Pay $69.00" in text

    one = client.post(reverse("payments:buy_now", args=[book.slug]), {"quantity": "1"})
    assert one["Location"] == f"/checkout/{book.slug}/"


@pytest.mark.parametrize("quantity", ["0", "11", "two", "-1"])
def test_a_quantity_out_of_range_is_a_400_saying_why(client, book, quantity):
    for response in (
        client.post(reverse("payments:buy_now", args=[book.slug]), {"quantity": quantity}),
        client.get(reverse("payments:checkout", args=[book.slug]), {"quantity": quantity}),
    ):
        assert response.status_code == 400
        assert response.content.decode() == "Choose a quantity from 1 to 10."
    assert client.get(reverse("payments:buy_now", args=[book.slug])).status_code == 405


def test_unknown_or_inactive_books_are_404(client):
    BookFactory(slug="retired", is_active=False)
    assert client.get(reverse("payments:checkout", args=["retired"])).status_code == 404
    assert client.get(reverse("payments:checkout", args=["nope"])).status_code == 404


def test_missing_keys_are_explained_on_the_page_and_in_the_log(client, book, settings, caplog):
    settings.STRIPE_PUBLISHABLE_KEY = ""

    with caplog.at_level(logging.ERROR, logger="payments.views"):
        response = client.get(reverse("payments:checkout", args=[book.slug]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Payments are not available yet" in page
    assert 'id="payment-form"' not in page
    (record,) = [r for r in caplog.records if r.getMessage() == "checkout_unavailable"]
    assert "STRIPE_PUBLISHABLE_KEY" in record.missing_settings


def test_reloading_the_page_creates_no_order(client, book, assert_max_queries):
    for _ in range(3):
        with assert_max_queries(4):
            client.get(reverse("payments:checkout", args=[book.slug]))
    assert not Order.objects.exists()


def test_query_count_does_not_grow_with_the_catalog(client, book):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("payments:checkout", args=[book.slug])
    with CaptureQueriesContext(connection) as small:
        client.get(url)  # the book; no session cookie, so no cart count nor orders bought
    BookFactory.create_batch(30)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries) == 1


def test_client_uses_configured_base_address_and_retries(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    settings.STRIPE_MAX_NETWORK_RETRIES = 3

    client = stripe_client()

    assert isinstance(client, stripe.StripeClient)
    options = client._requestor._options
    assert options.base_addresses["api"] == "http://127.0.0.1:8420"
    assert options.max_network_retries == 3


def test_client_without_a_key_raises_a_named_error(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(StripeNotConfigured):
        stripe_client()


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("sk_test_123", "https://dashboard.stripe.com/test/payments/pi_1"),
        ("sk_live_123", "https://dashboard.stripe.com/payments/pi_1"),
        ("rk_live_123", "https://dashboard.stripe.com/payments/pi_1"),
    ],
)
def test_dashboard_link_follows_the_key_mode(settings, key, url):
    settings.STRIPE_SECRET_KEY = key
    assert stripe_dashboard_url("pi_1") == url


def test_a_sold_out_book_says_so_with_no_pay_button(client):
    book = BookFactory(slug="gone", title="Gone Book", stock=0)

    response = client.get(reverse("payments:checkout", args=[book.slug]))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="sold-out"' in page and "Sold out." in page
    assert 'id="pay-button"' not in page
    assert 'id="payment-element"' not in page
    assert "checkout.js" not in page and "js.stripe.com" not in page


def test_a_copy_held_by_the_visitors_own_unpaid_order_is_still_payable_for_them(client, stripe_emulator):
    book = BookFactory(slug="last", title="Last Copy", stock=1)
    body = one_book_body(book, "ada@example.com")
    response = client.post(reverse("payments:create_intent"), data=body, content_type="application/json")
    assert response.status_code == 200  # the last copy is held for this shopper: 0 on the shelf

    mine = client.get(reverse("payments:checkout", args=[book.slug])).content.decode()
    theirs = Client().get(reverse("payments:checkout", args=[book.slug])).content.decode()

    assert 'id="pay-button"' in mine and 'id="sold-out"' not in mine
    assert 'id="sold-out"' in theirs and 'id="pay-button"' not in theirs
