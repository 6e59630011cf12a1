"""Issue 9 item 2: events never move an order backwards in Stripe's own timeline."""

import time

import pytest

from payments.models import WebhookEvent
from payments.tests.events import payment_intent_event
from shop.orders.models import OrderStatus
from shop.orders.services import order_mark_failed
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once, webhook_delivery

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


def test_a_processing_created_before_a_failure_recorded_here_leaves_the_order_failed(
    post_webhook, stripe_outage
):
    # The success page recorded the decline; Stripe's payment_failed event is not here yet.
    stripe = stripe_outage(500)
    order = OrderFactory(total_amount=2300, currency="usd")
    order_mark_failed(order=order, message="Your card was declined.", cause="success page")
    late = payment_intent_event("payment_intent.processing", order)
    late["created"] = int(time.time()) - 60

    post_webhook(late)

    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert "created before the payment failure" in WebhookEvent.objects.get().note
    assert stripe.requests == []


def test_a_new_attempt_after_a_failure_moves_the_order_to_processing(post_webhook):
    order = OrderFactory(total_amount=2300, currency="usd")
    post_webhook(payment_intent_event("payment_intent.payment_failed", order))
    newer = payment_intent_event("payment_intent.processing", order)
    newer["created"] += 60  # the shopper retried with a slower payment method

    post_webhook(newer)

    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


@postgres_only
def test_a_failure_and_an_older_processing_delivered_at_once_end_failed(transactional_db):
    for _ in range(4):
        order = OrderFactory(total_amount=2300, currency="usd")
        failed = payment_intent_event("payment_intent.payment_failed", order)
        late = payment_intent_event("payment_intent.processing", order)
        late["created"] = failed["created"] - 60

        results = run_at_once(webhook_delivery(failed), webhook_delivery(late))

        assert results == ["processed", "processed"]
        order.refresh_from_db()
        assert order.status == OrderStatus.FAILED
