"""Issue 9 item 2: events never move an order backwards in Stripe's own timeline."""

import time

import pytest

from payments.models import WebhookEvent
from payments.tests.emulator import payment_intent_on_emulator
from payments.tests.events import payment_intent_event, payment_intent_object
from shop.orders.models import OrderStatus
from shop.orders.services import order_mark_failed
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_a_late_processing_after_payment_failed_leaves_the_order_failed(post_webhook, stripe_outage):
    stripe = stripe_outage(500)  # the stored events decide: Stripe is not asked
    order = OrderFactory(total_amount=2300, currency="usd")
    failed = payment_intent_event("payment_intent.payment_failed", order)
    late = payment_intent_event("payment_intent.processing", order)
    late["created"] = failed["created"] - 60  # created first, delivered last

    post_webhook(failed)
    response = post_webhook(late)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert order.is_payable  # the shopper can retry
    assert "older in Stripe's timeline" in WebhookEvent.objects.get(type=late["type"]).note
    assert stripe.requests == []


def test_a_late_failed_after_a_newer_processing_leaves_the_order_processing(post_webhook):
    order = OrderFactory(total_amount=2300, currency="usd")
    processing = payment_intent_event("payment_intent.processing", order)
    late = payment_intent_event("payment_intent.payment_failed", order)
    late["created"] = processing["created"] - 60

    post_webhook(processing)
    post_webhook(late)

    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_processing_on_an_order_failed_without_a_stored_event_asks_stripe(post_webhook, stripe_emulator):
    # The success page recorded the decline; Stripe's payment_failed event is not here yet.
    order = OrderFactory(total_amount=2300, currency="usd", payment_intent_id=None)
    intent = payment_intent_on_emulator(order, payment_method="pm_card_chargeCustomerFail")
    assert intent["status"] == "requires_payment_method"
    order_mark_failed(order=order, message="Your card was declined.", cause="success page")
    late = payment_intent_event("payment_intent.processing", order)
    late["created"] = int(time.time()) - 60

    post_webhook(late)

    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED


def test_a_new_attempt_that_stripe_confirms_is_processing_moves_a_failed_order(post_webhook, stripe_outage):
    order = OrderFactory(total_amount=2300, currency="usd")
    post_webhook(payment_intent_event("payment_intent.payment_failed", order))
    newer = payment_intent_event("payment_intent.processing", order)
    newer["created"] += 60
    stripe = stripe_outage((200, payment_intent_object(order, status="processing")))

    post_webhook(newer)

    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert len(stripe.requests) == 1
