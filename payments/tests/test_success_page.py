"""GET /payments/success/: the outcome from server-side truth, details only for the payer."""

import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from payments.tests.checkout import one_book_body
from payments.tests.emulator import payment_intent_pay
from payments.tests.fakes import TIMEOUT
from shop.orders.models import Order, OrderStatus
from shop.orders.services import order_mark_canceled
from tests.unreachable import silent_port

pytestmark = pytest.mark.django_db

SUCCESS_URL = reverse("payments:success")


@pytest.fixture
def checkout(client, book, stripe_emulator):
    """A shopper who started paying for `book`: (order, client_secret)."""
    client.get(reverse("payments:checkout", args=[book.slug]))
    response = client.post(
        reverse("payments:create_intent"),
        data=json.dumps(one_book_body(book, "ada@example.com")),
        content_type="application/json",
    )
    assert response.status_code == 200
    return Order.objects.get(), response.json()["clientSecret"]


def success_params(order, client_secret=None) -> dict:
    params = {"payment_intent": order.payment_intent_id, "redirect_status": "succeeded"}
    if client_secret is not None:
        params["payment_intent_client_secret"] = client_secret
    return params


def test_paid_order_shows_number_intent_and_amount_before_the_webhook(checkout):
    order, client_secret = checkout
    payment_intent_pay(order.payment_intent_id)

    response = Client().get(SUCCESS_URL, success_params(order, client_secret))  # a fresh browser: secret only

    assert response.status_code == 200
    assert response.context["confirmation"].outcome == "succeeded"
    page = response.content.decode()
    assert order.number in page
    assert order.payment_intent_id in page
    assert "$27.99" in page
    order.refresh_from_db()
    assert (order.status, order.amount_received) == (OrderStatus.PAID, 2799)
    assert order.status_changes.filter(to_status="paid", cause="success page").exists()


def test_the_owner_session_needs_no_secret(client, checkout):
    order, _ = checkout
    payment_intent_pay(order.payment_intent_id)

    response = client.get(SUCCESS_URL, success_params(order))

    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_query_values_cannot_fake_success(checkout):
    order, client_secret = checkout  # not paid on Stripe

    response = Client().get(SUCCESS_URL, success_params(order, client_secret) | {"amount": "1"})

    assert response.context["confirmation"].outcome == "open"
    assert "not complete" in response.content.decode().lower()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.mark.parametrize(
    "params",
    [
        lambda order, secret: success_params(order),  # no secret, not the owner
        lambda order, secret: success_params(order, secret.replace("secret", "guess")),
        lambda order, secret: success_params(order, "pi_other_secret_x"),
        lambda order, secret: {"payment_intent": "pi_unknown", "payment_intent_client_secret": secret},
        lambda order, secret: {"payment_intent": "<script>", "payment_intent_client_secret": secret},
        lambda order, secret: {},
    ],
    ids=["no-secret", "wrong-secret", "other-secret", "unknown-intent", "malformed-id", "no-params"],
)
def test_strangers_get_a_404_without_details(checkout, params):
    order, client_secret = checkout
    payment_intent_pay(order.payment_intent_id)

    response = Client().get(SUCCESS_URL, params(order, client_secret))

    assert response.status_code == 404
    page = response.content.decode()
    assert order.number not in page
    assert order.email not in page


def test_a_decline_shows_the_reason_and_a_way_to_try_again(checkout, book):
    order, client_secret = checkout
    payment_intent_pay(order.payment_intent_id, "pm_card_chargeCustomerFail")

    response = Client().get(SUCCESS_URL, success_params(order, client_secret))

    assert response.status_code == 200
    assert response.context["confirmation"].outcome == "failed"
    page = response.content.decode()
    assert "Your card was declined." in page
    assert reverse("payments:checkout", args=[book.slug]) in page
    order.refresh_from_db()
    assert (order.status, order.failure_message) == (OrderStatus.FAILED, "Your card was declined.")


def test_an_async_payment_shows_processing(checkout, emulator_client, stripe_outage):
    # localstripe settles every payment at once, so Stripe's "processing" answer is scripted.
    order, client_secret = checkout
    intent = emulator_client.v1.payment_intents.retrieve(order.payment_intent_id).to_dict()
    stripe_outage((200, intent | {"status": "processing"}))

    response = Client().get(SUCCESS_URL, success_params(order, client_secret))

    assert response.context["confirmation"].outcome == "processing"
    assert "we will email you" in response.content.decode().lower()
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_amount_mismatch_is_never_shown_as_paid(checkout):
    order, client_secret = checkout
    Order.objects.filter(pk=order.pk).update(total_amount=2500)  # our record disagrees with Stripe's
    payment_intent_pay(order.payment_intent_id)

    response = Client().get(SUCCESS_URL, success_params(order, client_secret))

    assert response.context["confirmation"].outcome == "processing"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.needs_review


@pytest.mark.parametrize("failure", [TIMEOUT, 500, 429])
def test_stripe_outage_says_we_are_confirming_and_changes_nothing(checkout, stripe_outage, failure):
    order, client_secret = checkout
    payment_intent_pay(order.payment_intent_id)
    stripe_outage(failure)

    response = Client().get(SUCCESS_URL, success_params(order, client_secret))

    assert response.status_code == 200
    assert response.context["confirmation"].confirming
    assert response["Refresh"] == "5"  # the page asks again by itself
    assert "We are confirming your payment" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_visitor_stripe_must_vouch_for_gets_the_outage_page(checkout, stripe_outage):
    order, client_secret = checkout
    Order.objects.filter(pk=order.pk).update(client_secret_hash="")  # only Stripe can check the secret
    stripe_outage(500)

    response = Client().get(SUCCESS_URL, success_params(order, client_secret))

    assert response.status_code == 503
    assert order.number not in response.content.decode()


def test_refresh_after_paid_is_stable(client, checkout):
    order, client_secret = checkout
    payment_intent_pay(order.payment_intent_id)

    for _ in range(3):
        response = client.get(SUCCESS_URL, success_params(order, client_secret))
        assert response.context["confirmation"].outcome == "succeeded"

    assert order.status_changes.filter(to_status="paid").count() == 1


def test_a_payment_for_an_order_canceled_meanwhile_says_what_happened(client, checkout, stripe_outage):
    order, client_secret = checkout
    order_mark_canceled(order=order, cause="stock reservation expired")  # its intent not canceled yet
    payment_intent_pay(order.payment_intent_id)  # the shopper paid all the same

    response = client.get(SUCCESS_URL, success_params(order, client_secret))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["confirmation"].paid_after_cancel
    assert "after the order was canceled" in page and order.number in page
    assert "processing" not in page.lower() and "was canceled, so the order will not be" not in page
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and order.needs_review
    assert "Paid after the order was canceled: refund or fulfil" in order.review_reason

    stripe_outage(TIMEOUT)  # refreshed while Stripe is down: the records say the same
    again = client.get(SUCCESS_URL, success_params(order, client_secret)).content.decode()
    assert "after the order was canceled" in again and "processing" not in again.lower()


def test_a_hanging_stripe_holds_the_success_page_about_two_seconds(client, checkout, settings):
    order, client_secret = checkout
    with silent_port() as hanging_stripe:
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{hanging_stripe}"
        started = time.monotonic()
        response = client.get(SUCCESS_URL, success_params(order, client_secret))
        seconds = time.monotonic() - started

    assert seconds < 3  # STRIPE_PAGE_TIMEOUT_SECONDS (2), no retries
    assert response.status_code == 200 and response.context["confirmation"].confirming
    assert response["Refresh"] == "5"
