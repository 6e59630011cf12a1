"""Refund webhooks (signed with a real HMAC): no double counting, dashboard refunds recorded."""

import pytest

from payments.models import Refund, WebhookEvent
from payments.services.refunds import refund_create, refund_remaining
from payments.tests.emulator import (
    emulator_refund_create,
    paid_order_on_emulator,
    refund_event,
    refund_object,
    staff_user,
)
from payments.tests.events import charge_refunded_event
from payments.tests.factories import RefundFactory
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order():
    return OrderFactory(status=OrderStatus.PAID, total_amount=2300, amount_received=2300)


def processed(response) -> bool:
    return response.status_code == 200 and response.json()["outcome"] == "processed"


@pytest.mark.usefixtures("stripe_emulator")
def test_webhooks_after_an_api_refund_do_not_count_it_again(post_webhook):
    order = paid_order_on_emulator(total_amount=2300)
    refund = refund_create(order=order, amount=1000, reason="Damaged", user=staff_user())
    stripe_refund = refund_object(
        order, refund_id=refund.stripe_refund_id, amount=1000, metadata={"refund_key": refund.idempotency_key}
    )

    responses = [
        post_webhook(charge_refunded_event(order, amount_refunded=1000)),
        post_webhook(refund_event("refund.created", stripe_refund)),
        post_webhook(refund_event("refund.updated", stripe_refund)),
        post_webhook(refund_event("charge.refund.updated", stripe_refund)),
    ]

    assert all(processed(r) for r in responses)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 1000)
    assert Refund.objects.count() == 1
    assert refund_remaining(order=order) == 1300


def test_webhooks_arriving_before_the_api_answer_is_recorded_do_not_double_count(post_webhook, paid_order):
    # Stripe's webhook for our request lands while the API answer is still on its way.
    pending = RefundFactory(
        order=paid_order, amount=800, reason="Late", idempotency_key="order-x-refund-0-800"
    )
    stripe_refund = refund_object(
        paid_order, refund_id="re_early", amount=800, metadata={"refund_key": "order-x-refund-0-800"}
    )

    assert processed(post_webhook(refund_event("refund.created", stripe_refund)))
    assert processed(post_webhook(charge_refunded_event(paid_order, amount_refunded=800)))

    pending.refresh_from_db()
    assert (pending.stripe_refund_id, pending.status, pending.reason) == ("re_early", "succeeded", "Late")
    assert Refund.objects.count() == 1
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 800)


@pytest.mark.usefixtures("stripe_emulator")
def test_a_refund_made_on_the_dashboard_is_recorded_from_its_webhook(post_webhook):
    order = paid_order_on_emulator(total_amount=2300)
    made_outside = emulator_refund_create(order.payment_intent_id, 500)

    response = post_webhook(refund_event("refund.created", made_outside))

    assert processed(response)
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount, refund.status) == (made_outside["id"], 500, "succeeded")
    assert (refund.created_by, refund.idempotency_key) == (None, None)
    assert refund.reason == "Refunded outside the shop (Stripe dashboard or API)."
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 500)
    assert WebhookEvent.objects.get().order == order

    post_webhook(charge_refunded_event(order, amount_refunded=500))
    post_webhook(refund_event("refund.updated", made_outside))

    order.refresh_from_db()
    assert order.amount_refunded == 500
    assert Refund.objects.count() == 1


def test_a_charge_refunded_event_listing_its_refunds_records_them(post_webhook, paid_order):
    event = charge_refunded_event(paid_order, amount_refunded=2300)
    event["data"]["object"]["refunds"] = {
        "object": "list",
        "data": [
            refund_object(paid_order, refund_id="re_one", amount=300),
            refund_object(paid_order, refund_id="re_two", amount=2000, metadata={"reason": "Returned"}),
        ],
    }

    assert processed(post_webhook(event))

    assert {(r.stripe_refund_id, r.amount) for r in Refund.objects.all()} == {
        ("re_one", 300),
        ("re_two", 2000),
    }
    assert Refund.objects.get(stripe_refund_id="re_two").reason == "Returned"
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.REFUNDED, 2300)


def test_the_charge_total_wins_when_it_knows_more_than_our_rows(post_webhook, paid_order):
    post_webhook(refund_event("refund.created", refund_object(paid_order, refund_id="re_a", amount=300)))

    post_webhook(charge_refunded_event(paid_order, amount_refunded=900))  # another refund we have not seen

    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 900


def test_a_late_pending_update_does_not_move_a_succeeded_refund_back(post_webhook, paid_order):
    post_webhook(refund_event("refund.updated", refund_object(paid_order, refund_id="re_x", amount=400)))

    post_webhook(
        refund_event(
            "refund.created", refund_object(paid_order, refund_id="re_x", amount=400, status="pending")
        )
    )

    assert Refund.objects.get().status == "succeeded"
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 400


def test_a_pending_refund_counts_and_its_failure_flags_the_order(post_webhook, paid_order):
    pending = refund_object(paid_order, refund_id="re_p", amount=600, status="pending")
    post_webhook(refund_event("refund.created", pending))
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 600)

    failed = {**pending, "status": "failed", "failure_reason": "expired_or_canceled_card"}
    assert processed(post_webhook(refund_event("refund.failed", failed)))

    refund = Refund.objects.get()
    assert (refund.status, refund.failure_reason) == ("failed", "expired_or_canceled_card")
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 600  # never goes down: staff are told instead
    assert paid_order.needs_review
    assert "Refund re_p of $6.00 is failed on Stripe (expired_or_canceled_card)" in paid_order.review_reason
    assert refund_remaining(order=paid_order) == 1700


def test_a_refund_for_a_payment_that_is_not_ours_is_ignored(post_webhook):
    stranger = OrderFactory.build(payment_intent_id="pi_not_ours", currency="usd")
    response = post_webhook(
        refund_event("refund.created", refund_object(stranger, refund_id="re_z", amount=1))
    )

    assert response.json()["outcome"] == "ignored"
    assert not Refund.objects.exists()


def test_a_refund_in_another_currency_is_flagged_not_counted(post_webhook, paid_order):
    refund = refund_object(paid_order, refund_id="re_eur", amount=500, currency="eur")

    assert processed(post_webhook(refund_event("refund.created", refund)))

    assert not Refund.objects.exists()
    paid_order.refresh_from_db()
    assert (paid_order.amount_refunded, paid_order.needs_review) == (0, True)


def test_a_charge_refunded_in_another_currency_is_flagged_not_counted(post_webhook, paid_order):
    response = post_webhook(charge_refunded_event(paid_order, amount_refunded=500, currency="eur"))

    assert processed(response)
    assert WebhookEvent.objects.get().note == "Refund currency differs: flagged."
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded, paid_order.needs_review) == (
        OrderStatus.PAID,
        0,
        True,
    )
    assert "Refund in eur" in paid_order.review_reason
    assert not Refund.objects.exists()


def test_a_refund_without_its_payment_intent_is_found_by_our_metadata(post_webhook, paid_order):
    metadata = {"order_id": str(paid_order.pk), "order_number": paid_order.number}
    refund = refund_object(
        paid_order, refund_id="re_meta", amount=500, payment_intent=None, metadata=metadata
    )

    assert processed(post_webhook(refund_event("refund.created", refund)))

    row = Refund.objects.get()
    assert (row.order, row.stripe_refund_id, row.amount) == (paid_order, "re_meta", 500)
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 500)


def test_refund_metadata_must_name_the_order_by_id_and_number(post_webhook, paid_order):
    metadata = {"order_id": str(paid_order.pk), "order_number": "SP-NOTTHIS1"}
    refund = refund_object(
        paid_order, refund_id="re_guess", amount=500, payment_intent=None, metadata=metadata
    )

    response = post_webhook(refund_event("refund.created", refund))

    assert response.json()["outcome"] == "ignored"
    assert not Refund.objects.exists()
