"""Refunds racing each other and webhooks, on PostgreSQL (real row locks, one connection per thread).

The emulator ignores idempotency keys, so "one refund on Stripe" here is
proved by our own locking alone.
"""

import pytest

from payments.exceptions import RefundNotAllowed
from payments.models import Refund
from payments.services.refunds import refund_create
from payments.tests.emulator import (
    emulator_refund_create,
    emulator_refunds,
    paid_order_on_emulator,
    refund_event,
    staff_user,
)
from payments.tests.events import charge_refunded_event
from shop.orders.models import OrderStatus
from tests.postgres import postgres_only, run_at_once, webhook_delivery

pytestmark = pytest.mark.usefixtures("stripe_emulator")


def refund(order, amount: int, user, **kwargs):
    return lambda: refund_create(order=order, amount=amount, reason="Race", user=user, **kwargs)


@postgres_only
def test_a_refund_and_its_charge_refunded_webhook_at_once_count_it_once(transactional_db):
    clerk = staff_user()
    for _ in range(3):
        order = paid_order_on_emulator(total_amount=2300)

        made, outcome = run_at_once(
            refund(order, 700, clerk), webhook_delivery(charge_refunded_event(order, amount_refunded=700))
        )

        assert isinstance(made, Refund), made
        assert outcome == "processed"
        order.refresh_from_db()
        assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 700)
        assert order.refunds.count() == 1
        assert len(emulator_refunds(order.payment_intent_id)) == 1


@postgres_only
def test_our_refund_and_a_dashboard_refund_webhook_at_once_add_up(transactional_db):
    clerk = staff_user()
    order = paid_order_on_emulator(total_amount=2300)
    dashboard = emulator_refund_create(order.payment_intent_id, 500)

    made, outcome = run_at_once(
        refund(order, 700, clerk), webhook_delivery(refund_event("refund.created", dashboard))
    )

    assert isinstance(made, Refund), made
    assert outcome == "processed"
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 1200)
    assert sorted(order.refunds.values_list("amount", flat=True)) == [500, 700]


@postgres_only
def test_a_double_submit_at_the_same_moment_refunds_once(transactional_db):
    clerk = staff_user()
    order = paid_order_on_emulator(total_amount=2300)

    results = run_at_once(*[refund(order, 2300, clerk, refund_count=0)] * 4)

    assert all(isinstance(r, Refund) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert len(emulator_refunds(order.payment_intent_id)) == 1
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 2300)


@postgres_only
def test_two_full_refunds_at_once_refund_once_and_refuse_the_other(transactional_db):
    clerk = staff_user()
    order = paid_order_on_emulator(total_amount=2300)

    results = run_at_once(refund(order, 2300, clerk), refund(order, 2300, clerk))

    made = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if not isinstance(r, Refund)]
    assert len(made) == 1
    assert len(refused) == 1 and isinstance(refused[0], RefundNotAllowed), refused
    # Which words refuse it depends on how far the winner got before the loser took the
    # order's lock (it once failed on a busy machine for this alone): its refund only
    # reserved (nothing left), or already answered by Stripe (the order is refunded).
    assert refused[0].message in (
        f"Order {order.number} has nothing left to refund.",
        f"Order {order.number} is refunded: only paid orders can be refunded.",
    )
    assert len(emulator_refunds(order.payment_intent_id)) == 1
    order.refresh_from_db()
    assert (order.status, order.amount_refunded, order.refunds.count()) == (OrderStatus.REFUNDED, 2300, 1)
