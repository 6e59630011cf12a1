"""Issue 9 item 8: an amount received that differs from the order total is not trusted."""

import pytest

from payments.models import WebhookEvent
from payments.selectors import refund_totals
from payments.tests.events import payment_intent_event
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("received", [99999, 100])
def test_a_succeeded_event_with_another_amount_received_flags_the_order(post_webhook, received):
    order = OrderFactory(total_amount=2300, currency="usd")
    event = payment_intent_event("payment_intent.succeeded", order)
    event["data"]["object"]["amount_received"] = received

    response = post_webhook(event)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.needs_review
    assert "received" in order.review_reason
    assert order.status == OrderStatus.PENDING  # not marked paid until staff look
    assert order.amount_received == 0
    assert "flagged" in WebhookEvent.objects.get().note


def test_refunds_never_offer_more_than_the_order_total():
    order = OrderFactory(total_amount=2300, currency="usd", status=OrderStatus.PAID)
    Order.objects.filter(pk=order.pk).update(amount_received=99999)  # recorded before this check existed
    order.refresh_from_db()

    totals = refund_totals(order=order)

    assert (totals.charged, totals.remaining) == (2300, 2300)
