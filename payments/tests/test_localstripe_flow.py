"""The whole payment over real HTTP: our endpoints, localstripe, and its signed webhooks.

localstripe POSTs `payment_intent.succeeded` / `payment_intent.payment_failed`
to the live server about a second after the change, signed with our secret.
"""

import json
import time

import pytest
from django.urls import reverse

from payments.models import WebhookEvent
from payments.tests.checkout import one_book_body
from payments.tests.emulator import payment_intent_pay
from shop.orders.models import Order, OrderStatus


def wait_for_status(order: Order, status: str, timeout: float = 20) -> Order:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        order.refresh_from_db()
        if order.status == status:
            return order
        time.sleep(0.1)
    raise AssertionError(f"order {order.number} is {order.status}, expected {status} within {timeout}s")


def wait_for_events(order: Order, expected: set[tuple[str, str]], timeout: float = 20) -> None:
    """Until the order's stored events are `expected` (type, outcome).

    On SQLite the live server shares the test's connection, so the test can see
    the order paid before the webhook's transaction has recorded its outcome.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = set(
            WebhookEvent.objects.filter(payment_intent_id=order.payment_intent_id).values_list(
                "type", "outcome"
            )
        )
        if events == expected:
            return
        time.sleep(0.1)
    assert events == expected


def start_payment(client, book) -> dict:
    client.get(reverse("payments:checkout", args=[book.slug]))
    response = client.post(
        reverse("payments:create_intent"),
        data=json.dumps(one_book_body(book, "ada@example.com")),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_card_payment_is_marked_paid_by_the_emulators_webhook(client, book, emulator_webhooks):
    started = start_payment(client, book)
    order = Order.objects.get(number=started["orderNumber"])

    payment_intent_pay(order.payment_intent_id)

    order = wait_for_status(order, OrderStatus.PAID)
    assert order.amount_received == 2799
    wait_for_events(order, {("payment_intent.succeeded", "processed")})
    assert WebhookEvent.objects.get(payment_intent_id=order.payment_intent_id).order == order


@pytest.mark.django_db(transaction=True)
def test_decline_then_retry_on_the_same_order_and_intent(client, book, emulator_webhooks):
    started = start_payment(client, book)
    order = Order.objects.get(number=started["orderNumber"])

    payment_intent_pay(order.payment_intent_id, "pm_card_chargeCustomerFail")
    order = wait_for_status(order, OrderStatus.FAILED)
    assert order.failure_message == "Your card was declined."

    retried = start_payment(client, book)
    assert retried == started  # same order, same PaymentIntent
    payment_intent_pay(order.payment_intent_id, "pm_card_visa")

    order = wait_for_status(order, OrderStatus.PAID)
    assert Order.objects.count() == 1
    wait_for_events(
        order, {("payment_intent.payment_failed", "processed"), ("payment_intent.succeeded", "processed")}
    )
