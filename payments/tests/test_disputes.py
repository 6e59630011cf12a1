"""Dispute webhooks (signed with a real HMAC): recorded once, newest event wins, unknown payments kept."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from payments.models import Dispute, WebhookEvent
from payments.tests.events import dispute_event, dispute_object
from shop.orders.models import DisputeStatus, OrderStatus
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once, webhook_delivery

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 3600  # Stripe's clock when the dispute was opened


@pytest.fixture
def paid_order():
    return OrderFactory(status=OrderStatus.PAID, total_amount=2300, amount_received=2300)


def outcome(response) -> str:
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


def test_a_new_dispute_is_recorded_and_marks_its_order_disputed(post_webhook, paid_order):
    dispute = dispute_object(paid_order.payment_intent_id, due_by=T0 + 86400 * 9, created=T0)

    assert outcome(post_webhook(dispute_event("created", dispute, created=T0))) == "processed"

    record = Dispute.objects.get()
    assert (record.stripe_dispute_id, record.order, record.amount, record.currency) == (
        "dp_test_1",
        paid_order,
        2300,
        "usd",
    )
    assert (record.status, record.reason, record.charge_id) == (
        "needs_response",
        "product_not_received",
        "ch_test_disputed",
    )
    assert record.evidence_due_by.timestamp() == T0 + 86400 * 9
    assert record.opened_at.timestamp() == T0 and record.closed_at is None
    paid_order.refresh_from_db()
    assert paid_order.dispute_status == DisputeStatus.OPEN
    assert paid_order.status == OrderStatus.PAID  # the payment's status is Stripe's charge, not the dispute
    event = WebhookEvent.objects.get()
    assert (event.order, event.payment_intent_id) == (paid_order, paid_order.payment_intent_id)
    audit = paid_order.status_changes.last()
    assert "Not disputed -> Disputed" in audit.cause and event.stripe_event_id in audit.cause


def test_a_redelivered_event_changes_nothing(post_webhook, paid_order):
    event = dispute_event("created", dispute_object(paid_order.payment_intent_id, created=T0), created=T0)

    assert outcome(post_webhook(event)) == "processed"
    assert outcome(post_webhook(event)) == "duplicate"

    assert Dispute.objects.count() == 1
    assert WebhookEvent.objects.count() == 1


def test_the_dispute_follows_stripe_to_its_close(post_webhook, paid_order):
    intent = paid_order.payment_intent_id
    events = [
        dispute_event("created", dispute_object(intent, created=T0), created=T0),
        dispute_event("funds_withdrawn", dispute_object(intent, created=T0), created=T0),
        dispute_event("updated", dispute_object(intent, status="under_review", created=T0), created=T0 + 60),
        dispute_event("closed", dispute_object(intent, status="lost", created=T0), created=T0 + 120),
    ]

    assert [outcome(post_webhook(event)) for event in events] == ["processed"] * 4

    record = Dispute.objects.get()
    assert (record.status, record.last_event_type) == ("lost", "charge.dispute.closed")
    assert record.closed_at.timestamp() == T0 + 120
    paid_order.refresh_from_db()
    assert paid_order.dispute_status == DisputeStatus.LOST


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(post_webhook, paid_order):
    intent = paid_order.payment_intent_id
    closed = dispute_event("closed", dispute_object(intent, status="won", created=T0), created=T0 + 300)
    updated = dispute_event(
        "updated", dispute_object(intent, status="under_review", created=T0), created=T0 + 100
    )
    created = dispute_event("created", dispute_object(intent, created=T0), created=T0)

    for event in (closed, updated, created):
        assert outcome(post_webhook(event)) == "processed"

    record = Dispute.objects.get()
    assert (record.status, record.last_event_id) == ("won", closed["id"])
    assert record.closed_at.timestamp() == T0 + 300
    paid_order.refresh_from_db()
    assert paid_order.dispute_status == DisputeStatus.WON
    notes = dict(WebhookEvent.objects.values_list("stripe_event_id", "note"))
    assert notes[updated["id"]].startswith("No change: older than charge.dispute.closed")


def test_an_appeal_opens_a_lost_dispute_again(post_webhook, paid_order):
    intent = paid_order.payment_intent_id
    post_webhook(dispute_event("closed", dispute_object(intent, status="lost", created=T0), created=T0 + 10))
    appeal = dispute_object(intent, status="appeal_needs_response", created=T0)

    assert outcome(post_webhook(dispute_event("updated", appeal, created=T0 + 20))) == "processed"

    record = Dispute.objects.get()
    assert (record.status, record.closed_at, record.is_open) == ("appeal_needs_response", None, True)
    paid_order.refresh_from_db()
    assert paid_order.dispute_status == DisputeStatus.OPEN


def test_an_order_is_disputed_while_any_of_its_disputes_is_open(post_webhook, paid_order):
    intent = paid_order.payment_intent_id
    won = dispute_object(intent, dispute_id="dp_test_won", status="won", created=T0)
    open_one = dispute_object(intent, dispute_id="dp_test_open", created=T0 + 5)

    post_webhook(dispute_event("closed", won, created=T0 + 1))
    post_webhook(dispute_event("created", open_one, created=T0 + 5))

    paid_order.refresh_from_db()
    assert paid_order.dispute_status == DisputeStatus.OPEN
    assert Dispute.objects.filter(order=paid_order).count() == 2


def test_a_dispute_of_a_payment_no_order_has_is_recorded_without_an_order(post_webhook):
    event = dispute_event("created", dispute_object("pi_not_ours", created=T0), created=T0)

    assert outcome(post_webhook(event)) == "processed"

    record = Dispute.objects.get()
    assert (record.order, record.payment_intent_id) == (None, "pi_not_ours")
    note = WebhookEvent.objects.get().note
    assert "No order of ours has PaymentIntent pi_not_ours" in note


def test_a_dispute_without_a_payment_intent_is_recorded_too(post_webhook):
    event = dispute_event("created", dispute_object(None, created=T0), created=T0)

    assert outcome(post_webhook(event)) == "processed"

    assert Dispute.objects.get().order is None


def test_an_expanded_payment_intent_is_read_by_its_id(post_webhook, paid_order):
    dispute = dispute_object(None, created=T0)
    dispute["payment_intent"] = {"id": paid_order.payment_intent_id, "object": "payment_intent"}

    post_webhook(dispute_event("created", dispute, created=T0))

    assert Dispute.objects.get().order == paid_order


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"id": 12},
        {"amount": "2300", "currency": None, "created": "yesterday", "evidence_details": "soon"},
        {"status": None, "reason": "x" * 500, "payment_intent": ["pi_x"]},
    ],
)
def test_malformed_disputes_are_answered_without_an_error(post_webhook, changes):
    dispute = {**dispute_object("pi_not_ours", created=T0), **changes}

    assert outcome(post_webhook(dispute_event("created", dispute, created=T0))) in ("processed", "ignored")

    assert not WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.FAILED).exists()


@postgres_only
def test_a_new_disputes_first_events_arriving_at_once_record_it_once(transactional_db, mailoutbox):
    staff = get_user_model().objects.create_user("ann", email="ann@stripe-press.test", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="receive_dispute_emails"))
    order = OrderFactory(status=OrderStatus.PAID, total_amount=2300, amount_received=2300)
    intent = order.payment_intent_id
    events = [
        dispute_event("created", dispute_object(intent, created=T0), created=T0),
        dispute_event("funds_withdrawn", dispute_object(intent, created=T0), created=T0),
        dispute_event("updated", dispute_object(intent, status="under_review", created=T0), created=T0 + 1),
    ]

    results = run_at_once(*(webhook_delivery(event) for event in events))

    assert results == ["processed"] * 3
    record = Dispute.objects.get()
    assert (record.order, record.status) == (order, "under_review")
    assert len(mailoutbox) == 1
    order.refresh_from_db()
    assert order.dispute_status == DisputeStatus.OPEN
