"""Refund reads: what an order was charged, refunded, holds back and may still refund."""

import pytest

from payments.models import RefundStatus
from payments.selectors import RefundTotals, order_is_refundable, refund_get_for_order, refund_totals
from payments.tests.factories import RefundFactory
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_refund_totals_hold_back_refunds_stripe_has_not_confirmed():
    order = OrderFactory(status=OrderStatus.PARTIALLY_REFUNDED, amount_received=2000, amount_refunded=500)
    RefundFactory(order=order, amount=500, stripe_refund_id="re_done", status=RefundStatus.SUCCEEDED)
    RefundFactory(order=order, amount=700)  # asked for, no answer from Stripe yet
    RefundFactory(order=order, amount=300, stripe_refund_id="re_no", status=RefundStatus.FAILED)

    assert refund_totals(order=order) == RefundTotals(
        charged=2000, refunded=500, unconfirmed=700, remaining=800
    )


@pytest.mark.parametrize(
    ("status", "payment_intent_id", "refundable"),
    [
        (OrderStatus.PAID, "pi_1", True),
        (OrderStatus.PARTIALLY_REFUNDED, "pi_1", True),
        (OrderStatus.PAID, None, False),
        (OrderStatus.REFUNDED, "pi_1", False),
        (OrderStatus.PENDING, "pi_1", False),
    ],
)
def test_only_orders_paid_through_stripe_are_refundable(status, payment_intent_id, refundable):
    order = OrderFactory.build(status=status, payment_intent_id=payment_intent_id)
    assert order_is_refundable(order=order) is refundable


def test_a_refund_is_found_only_through_its_own_order():
    refund = RefundFactory()

    assert refund_get_for_order(order=refund.order, refund_id=str(refund.pk)) == refund
    assert refund_get_for_order(order=OrderFactory(), refund_id=str(refund.pk)) is None
    assert refund_get_for_order(order=refund.order, refund_id="1 OR 1=1") is None
