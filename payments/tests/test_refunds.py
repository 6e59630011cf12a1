"""refund_create against the emulator over real HTTP: amounts, refusals, once only."""

import pytest

from payments.exceptions import RefundFailed, RefundNotAllowed
from payments.models import Refund
from payments.services.refunds import refund_create, refund_key, refund_remaining
from payments.tests.emulator import (
    emulator_refunds,
    paid_order_on_emulator,
    payment_intent_on_emulator,
    staff_user,
)
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


@pytest.fixture
def clerk():
    return staff_user()


def test_full_refund_is_made_on_stripe_recorded_and_applied_to_the_order(clerk):
    order = paid_order_on_emulator(total_amount=2300)

    refund = refund_create(order=order, amount=2300, reason="Damaged in transit", user=clerk)

    assert refund.stripe_refund_id.startswith("re_")
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 2300, "usd")
    assert (refund.reason, refund.created_by) == ("Damaged in transit", clerk)
    assert refund.idempotency_key == refund_key(order=order, refund_count=0, amount=2300)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 2300)
    [on_stripe] = emulator_refunds(order.payment_intent_id)
    assert (on_stripe["id"], on_stripe["amount"]) == (refund.stripe_refund_id, 2300)
    assert on_stripe["metadata"] == {
        "order_id": str(order.pk),
        "order_number": order.number,
        "reason": "Damaged in transit",
        "refund_key": refund.idempotency_key,
    }
    assert order.status_changes.last().to_status == "refunded"


def test_partial_refunds_add_up_until_the_order_is_fully_refunded(clerk):
    order = paid_order_on_emulator(total_amount=2300)

    refund_create(order=order, amount=500, reason="Late delivery", user=clerk)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 500)
    assert refund_remaining(order=order) == 1800

    refund_create(order=order, amount=1800, reason="Customer returned the book", user=clerk)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 2300)
    assert refund_remaining(order=order) == 0
    assert sorted(r["amount"] for r in emulator_refunds(order.payment_intent_id)) == [500, 1800]


def test_more_than_the_remaining_amount_is_refused_before_asking_stripe(clerk):
    order = paid_order_on_emulator(total_amount=2300)
    refund_create(order=order, amount=2000, reason="Partial", user=clerk)

    with pytest.raises(RefundNotAllowed) as refused:
        refund_create(order=order, amount=301, reason="Too much", user=clerk)

    assert refused.value.message == (
        f"$3.01 is more than the $3.00 that can still be refunded on order {order.number}."
    )
    assert Refund.objects.count() == 1
    assert len(emulator_refunds(order.payment_intent_id)) == 1
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 2000)


def test_more_than_was_charged_is_refused(clerk):
    order = paid_order_on_emulator(total_amount=2300)

    with pytest.raises(RefundNotAllowed, match=r"\$23\.01 is more than the \$23\.00"):
        refund_create(order=order, amount=2301, reason="Too much", user=clerk)

    assert not Refund.objects.exists()
    assert emulator_refunds(order.payment_intent_id) == []


@pytest.mark.parametrize("amount", [0, -100])
def test_an_amount_that_is_not_positive_is_refused(clerk, amount):
    order = paid_order_on_emulator()

    with pytest.raises(RefundNotAllowed, match="greater than zero"):
        refund_create(order=order, amount=amount, reason="Nothing", user=clerk)

    assert not Refund.objects.exists()


@pytest.mark.parametrize("status", ["pending", "processing", "failed", "canceled", "refunded"])
def test_an_order_that_is_not_paid_is_refused(clerk, status):
    order = OrderFactory(status=status)

    with pytest.raises(RefundNotAllowed) as refused:
        refund_create(order=order, amount=100, reason="Nope", user=clerk)

    assert "only paid orders can be refunded" in refused.value.message
    assert order.number in refused.value.message
    assert not Refund.objects.exists()


def test_a_fully_refunded_paid_order_has_nothing_left(clerk):
    order = paid_order_on_emulator()
    refund_create(order=order, amount=2300, reason="All", user=clerk)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)  # e.g. status not caught up yet

    with pytest.raises(RefundNotAllowed, match="has nothing left to refund"):
        refund_create(order=order, amount=2300, reason="Again", user=clerk)

    assert len(emulator_refunds(order.payment_intent_id)) == 1


def test_a_double_submit_refunds_once(clerk):
    order = paid_order_on_emulator(total_amount=2300)

    first = refund_create(order=order, amount=700, reason="Scratched cover", user=clerk, refund_count=0)
    second = refund_create(order=order, amount=700, reason="Scratched cover", user=clerk, refund_count=0)

    assert second.pk == first.pk
    assert Refund.objects.count() == 1
    assert len(emulator_refunds(order.payment_intent_id)) == 1
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 700)


def test_a_page_opened_before_another_refund_is_refused_as_stale(clerk):
    order = paid_order_on_emulator(total_amount=2300)
    refund_create(order=order, amount=700, reason="First clerk", user=clerk, refund_count=0)

    with pytest.raises(RefundNotAllowed, match="refunded by someone else since this page was opened"):
        refund_create(order=order, amount=500, reason="Second clerk", user=clerk, refund_count=0)

    assert Refund.objects.count() == 1
    assert len(emulator_refunds(order.payment_intent_id)) == 1


def test_a_refusal_from_stripe_is_recorded_as_failed_and_nothing_is_refunded(clerk):
    # Marked paid here, but the payment failed on Stripe: Stripe refuses to refund it.
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300, payment_intent_id=None)
    payment_intent_on_emulator(order, payment_method="pm_card_chargeCustomerFail")

    with pytest.raises(RefundFailed) as failed:
        refund_create(order=order, amount=2300, reason="Refund", user=clerk)

    assert failed.value.message == (
        f"Stripe refused the refund on order {order.number}: Cannot refund a failed payment."
    )
    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id) == ("failed", None)
    assert refund.failure_reason == "Cannot refund a failed payment."
    assert refund_remaining(order=order) == 2300  # a failed refund holds nothing back
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PAID, 0)


def test_the_same_request_after_a_refusal_reports_the_refusal_without_asking_again(clerk):
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300, payment_intent_id=None)
    payment_intent_on_emulator(order, payment_method="pm_card_chargeCustomerFail")
    with pytest.raises(RefundFailed):
        refund_create(order=order, amount=2300, reason="Refund", user=clerk, refund_count=0)

    with pytest.raises(RefundFailed, match="Cannot refund a failed payment"):
        refund_create(order=order, amount=2300, reason="Refund", user=clerk, refund_count=0)

    assert Refund.objects.count() == 1
