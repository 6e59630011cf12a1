"""Refund failure drills: Stripe unreachable, 5xx, 429 (stripe-python's pluggable HTTP client)."""

import pytest

from payments.exceptions import RefundUnconfirmed
from payments.models import Refund
from payments.services.refunds import refund_create, refund_remaining
from payments.tests.emulator import emulator_refunds, paid_order_on_emulator, staff_user
from payments.tests.fakes import CONNECTION_REFUSED, TIMEOUT
from shop.orders.models import OrderStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


@pytest.fixture
def clerk():
    return staff_user()


@pytest.mark.parametrize("failure", [TIMEOUT, CONNECTION_REFUSED, 500, 503, 429])
def test_stripe_unavailable_gives_a_clear_message_and_records_nothing_as_refunded(
    stripe_outage, clerk, failure
):
    order = paid_order_on_emulator(total_amount=2300)
    outage = stripe_outage(failure)

    with pytest.raises(RefundUnconfirmed) as unconfirmed:
        refund_create(order=order, amount=1000, reason="Damaged", user=clerk)

    assert unconfirmed.value.message.startswith(
        f"Stripe could not be reached, so the refund of $10.00 on order {order.number} is not confirmed "
        "and nothing was recorded as refunded."
    )
    assert [method for method, _ in outage.requests] == ["post"]
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PAID, 0)
    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id) == ("pending", None)
    assert refund_remaining(order=order) == 1300  # held back until Stripe's answer is known


def test_submitting_again_after_an_outage_resends_with_the_same_key_and_refunds_once(stripe_outage, clerk):
    order = paid_order_on_emulator(total_amount=2300)
    outage = stripe_outage(500, then_real=True)  # the first call fails, the next reach the emulator
    with pytest.raises(RefundUnconfirmed):
        refund_create(order=order, amount=1000, reason="Damaged", user=clerk, refund_count=0)

    refund = refund_create(order=order, amount=1000, reason="Damaged", user=clerk, refund_count=0)

    assert len(outage.requests) == 2
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
    assert refund.failure_reason == ""
    assert Refund.objects.count() == 1
    [on_stripe] = emulator_refunds(order.payment_intent_id)
    assert on_stripe["metadata"]["refund_key"] == refund.idempotency_key
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 1000)


def test_the_idempotency_key_sent_to_stripe_is_the_same_on_every_attempt(monkeypatch, stripe_outage, clerk):
    order = paid_order_on_emulator(total_amount=2300)
    seen: list[str] = []
    outage = stripe_outage(TIMEOUT, TIMEOUT)
    original = type(outage).request

    def spy(self, method, url, headers, post_data=None, **kwargs):
        seen.append(headers.get("Idempotency-Key"))
        return original(self, method, url, headers, post_data, **kwargs)

    monkeypatch.setattr(type(outage), "request", spy)
    for _ in range(2):
        with pytest.raises(RefundUnconfirmed):
            refund_create(order=order, amount=1000, reason="Damaged", user=clerk, refund_count=0)

    assert seen == [Refund.objects.get().idempotency_key] * 2
