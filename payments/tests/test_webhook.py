"""POST /payments/webhook/ with payloads signed by a real HMAC."""

import json
import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

from payments.models import WebhookEvent
from payments.services import webhooks
from payments.tests.events import charge_refunded_event, payment_intent_event, stripe_event
from payments.tests.factories import WebhookEventFactory
from shop.orders.models import Order, OrderStatus, OrderStatusChange
from shop.orders.tests.factories import OrderFactory
from tests.tasks_worker import DATABASE_TASKS

pytestmark = pytest.mark.django_db

Outcome = WebhookEvent.Outcome


@pytest.fixture
def order():
    return OrderFactory(total_amount=2300, currency="usd")


def test_payment_succeeded_marks_the_order_paid_and_records_the_event(post_webhook, order):
    event = payment_intent_event("payment_intent.succeeded", order)

    response = post_webhook(event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "processed"}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.amount_received == 2300
    assert order.paid_at is not None
    record = WebhookEvent.objects.get()
    assert (record.stripe_event_id, record.type, record.outcome) == (
        event["id"],
        event["type"],
        Outcome.PROCESSED,
    )
    assert (record.order, record.payment_intent_id, record.attempts) == (order, order.payment_intent_id, 1)
    masked = f"{order.payment_intent_id}_secret_[masked]"  # client secrets are never stored
    assert record.payload == event | {"data": {"object": event["data"]["object"] | {"client_secret": masked}}}
    assert record.processed_at is not None
    change = order.status_changes.last()
    assert (change.from_status, change.to_status) == ("pending", "paid")
    assert event["id"] in change.cause


def test_amount_received_falls_back_to_amount_when_absent(post_webhook, order):
    event = payment_intent_event("payment_intent.succeeded", order)
    del event["data"]["object"]["amount_received"]  # as localstripe sends it

    post_webhook(event)

    order.refresh_from_db()
    assert (order.status, order.amount_received) == (OrderStatus.PAID, 2300)


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda p, h: (p, h.replace("v1=", "v1=00")), "Signature"),
        (lambda p, h: (p, ""), "Missing"),
        (lambda p, h: (p.replace('"succeeded"', '"canceled"', 1), h), "Signature"),
    ],
    ids=["bad-signature", "missing-header", "tampered-body"],
)
def test_unverifiable_deliveries_are_400_and_change_nothing(client, settings, order, mangle, expected):
    from payments.tests.signing import stripe_signature_header

    payload = json.dumps(payment_intent_event("payment_intent.succeeded", order))
    payload, header = mangle(payload, stripe_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET))

    response = client.post(
        "/payments/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )

    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert not WebhookEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_signed_with_another_secret_is_rejected(post_webhook, order):
    response = post_webhook(payment_intent_event("payment_intent.succeeded", order), secret="whsec_other")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_stale_timestamp_is_rejected(post_webhook, order):
    stale = int(time.time()) - 301
    response = post_webhook(payment_intent_event("payment_intent.succeeded", order), timestamp=stale)
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_timestamp_within_tolerance_is_accepted(post_webhook, order):
    recent = int(time.time()) - 290
    assert (
        post_webhook(payment_intent_event("payment_intent.succeeded", order), timestamp=recent).status_code
        == 200
    )


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        "[]",
        '{"id": "evt_1"}',
        '{"id": "x", "type": "a", "data": {"object": {}}}',
        "\udcff",
    ],
    ids=["not-json", "list", "no-type", "bad-id", "bad-utf8"],
)
def test_signed_bodies_that_are_not_stripe_events_are_400(post_webhook, body):
    response = post_webhook({}, body=body.encode("utf-8", "surrogateescape").decode("latin-1"))
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_get_is_refused(client):
    assert client.get("/payments/webhook/").status_code == 405


def test_missing_webhook_secret_refuses_everything(post_webhook, settings, order):
    event = payment_intent_event("payment_intent.succeeded", order)
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = post_webhook(event, secret="whsec_anything")
    assert response.status_code == 400


def test_unknown_event_type_is_acknowledged_and_recorded_as_ignored(post_webhook):
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})

    response = post_webhook(event)

    assert response.status_code == 200
    record = WebhookEvent.objects.get()
    assert record.outcome == Outcome.IGNORED
    assert "not used" in record.note


def test_event_for_a_payment_intent_that_is_not_ours_is_ignored(post_webhook, order):
    stranger = OrderFactory.build(pk=999999, payment_intent_id="pi_someone_else", number="SP-NOTOURS")
    response = post_webhook(payment_intent_event("payment_intent.succeeded", stranger))

    assert response.status_code == 200
    record = WebhookEvent.objects.get()
    assert (record.outcome, record.order) == (Outcome.IGNORED, None)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_order_found_by_metadata_when_its_intent_id_was_never_saved(post_webhook):
    order = OrderFactory(payment_intent_id=None)
    event = payment_intent_event("payment_intent.succeeded", order, id="pi_lost_in_a_timeout")

    post_webhook(event)

    order.refresh_from_db()
    assert order.payment_intent_id == "pi_lost_in_a_timeout"
    assert order.status == OrderStatus.PAID


def test_metadata_fallback_does_not_steal_an_order_linked_to_another_intent(post_webhook, order):
    event = payment_intent_event("payment_intent.succeeded", order, id="pi_forged")

    post_webhook(event)

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert WebhookEvent.objects.get().outcome == Outcome.IGNORED


def test_duplicate_delivery_is_acknowledged_without_reprocessing(post_webhook, order):
    event = payment_intent_event("payment_intent.succeeded", order)

    first, second = post_webhook(event), post_webhook(event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["outcome"] == "duplicate"
    assert WebhookEvent.objects.get().attempts == 1
    assert OrderStatusChange.objects.filter(order=order, to_status="paid").count() == 1


@pytest.mark.parametrize("late", ["payment_intent.payment_failed", "payment_intent.processing"])
def test_late_events_never_move_a_paid_order_back(post_webhook, order, late):
    post_webhook(payment_intent_event("payment_intent.succeeded", order))

    response = post_webhook(payment_intent_event(late, order))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.failure_message == ""
    assert "No change" in WebhookEvent.objects.get(type=late).note


def test_failed_payment_then_retry_succeeds(post_webhook, order):
    post_webhook(payment_intent_event("payment_intent.payment_failed", order))
    order.refresh_from_db()
    assert (order.status, order.failure_message) == (OrderStatus.FAILED, "Your card was declined.")

    post_webhook(payment_intent_event("payment_intent.succeeded", order))

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.failure_message == ""
    assert list(order.status_changes.values_list("to_status", flat=True)) == ["failed", "paid"]


def test_processing_then_canceled(post_webhook, order):
    post_webhook(payment_intent_event("payment_intent.processing", order))
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING

    post_webhook(payment_intent_event("payment_intent.canceled", order))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED


@pytest.mark.parametrize(("amount", "currency"), [(1, "usd"), (2300, "eur"), (23000, "usd")])
def test_amount_or_currency_mismatch_flags_and_never_marks_paid(post_webhook, order, amount, currency):
    response = post_webhook(
        payment_intent_event("payment_intent.succeeded", order, amount=amount, currency=currency)
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.needs_review
    assert order.payment_intent_id in order.review_reason
    assert "flagged" in WebhookEvent.objects.get().note


def test_payment_for_a_canceled_order_is_flagged_for_staff(post_webhook, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELED)

    post_webhook(payment_intent_event("payment_intent.succeeded", order))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert order.needs_review
    assert "Paid after the order was canceled: refund or fulfil" in order.review_reason
    note = WebhookEvent.objects.get().note
    assert note.startswith("Paid after the order was canceled: refund or fulfil") and "differs" not in note


def test_charge_refunded_partial_then_full_without_double_counting(post_webhook, order):
    post_webhook(payment_intent_event("payment_intent.succeeded", order))

    partial = charge_refunded_event(order, amount_refunded=500)
    post_webhook(partial)
    post_webhook(partial)  # duplicate
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 500)

    post_webhook(charge_refunded_event(order, amount_refunded=2300))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 2300)

    post_webhook(charge_refunded_event(order, amount_refunded=500))  # an older report, late
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 2300)


def test_a_failed_apply_rolls_back_answers_200_and_sync_payments_retries(post_webhook, order, monkeypatch):
    """Stripe had its 200 and will not redeliver: our own retry (sync_payments' re-queue) applies it."""
    event = payment_intent_event("payment_intent.succeeded", order)
    real_handler = webhooks.EVENT_HANDLERS["payment_intent.succeeded"]

    def crash_after_marking_paid(evt, obj):
        real_handler(evt, obj)
        raise RuntimeError("boom after the order was updated")

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", crash_after_marking_paid)
    response = post_webhook(event)

    assert (response.status_code, response.json()["outcome"]) == (200, "failed")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # rolled back
    assert not order.status_changes.filter(to_status="paid").exists()
    record = WebhookEvent.objects.get()
    assert (record.outcome, record.attempts) == (Outcome.FAILED, 1)
    assert "boom after the order was updated" in record.error

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", real_handler)
    assert webhooks.webhook_events_requeue() == 1  # what sync_payments runs

    record.refresh_from_db()
    assert (record.outcome, record.attempts, record.error) == (Outcome.PROCESSED, 2, "")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert webhooks.webhook_events_requeue() == 0


def test_a_redelivery_of_a_failed_event_applies_it_again(post_webhook, order, monkeypatch):
    event = payment_intent_event("payment_intent.succeeded", order)
    real_handler = webhooks.EVENT_HANDLERS["payment_intent.succeeded"]

    def broken(evt, obj):
        raise RuntimeError("broken")

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", broken)
    assert post_webhook(event).json()["outcome"] == "failed"
    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", real_handler)

    assert post_webhook(event).json()["outcome"] == "processed"
    assert WebhookEvent.objects.get().attempts == 2
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_failed_events_are_retried_up_to_the_limit_then_left_to_staff(post_webhook, order, monkeypatch):
    def broken(evt, obj):
        raise RuntimeError("still broken")

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", broken)
    post_webhook(payment_intent_event("payment_intent.succeeded", order))
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        assert webhooks.webhook_events_requeue() == 1

    record = WebhookEvent.objects.get()
    assert (record.outcome, record.attempts) == (Outcome.FAILED, webhooks.MAX_ATTEMPTS)
    assert webhooks.webhook_events_requeue() == 0


def test_an_event_left_received_is_requeued_only_once_it_is_old(order, settings):
    """A task lost after the 200 (a worker killed mid-apply leaves the event RECEIVED)."""
    settings.TASKS = DATABASE_TASKS  # enqueue only: no worker runs here
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    event = payment_intent_event("payment_intent.succeeded", order)
    record = WebhookEventFactory(
        stripe_event_id=event["id"], payload=event, order=None, outcome=Outcome.RECEIVED
    )
    assert webhooks.webhook_events_requeue() == 0  # its task may be on its way
    WebhookEvent.objects.filter(pk=record.pk).update(
        received_at=timezone.now() - webhooks.REQUEUE_RECEIVED_AFTER - timedelta(seconds=1)
    )

    assert webhooks.webhook_events_requeue() == 1
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.queue_name, task.args_kwargs["args"]) == (
        "payments.tasks.webhook_event_apply",
        "webhooks",
        [record.pk],
    )


@pytest.mark.django_db(transaction=True)  # no test transaction around it: as in production
def test_database_unavailable_answers_5xx_and_the_redelivery_is_processed(post_webhook, order, monkeypatch):
    event = payment_intent_event("payment_intent.succeeded", order)
    real_execute = CursorWrapper.execute

    def database_down(self, sql, params=None):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(CursorWrapper, "execute", database_down)
    response = post_webhook(event)
    monkeypatch.setattr(CursorWrapper, "execute", real_execute)

    assert response.status_code == 500
    assert not WebhookEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING

    assert post_webhook(event).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_new_event_query_budget_store_and_enqueue(post_webhook, order, assert_max_queries, settings):
    # The request looks for the event handled already (1), gets or creates it (2) and
    # enqueues its task (a row with the database backend, 1), in one transaction.
    settings.TASKS = DATABASE_TASKS
    OrderFactory.create_batch(20)
    with assert_max_queries(4):
        response = post_webhook(payment_intent_event("payment_intent.succeeded", order))
    assert response.json()["outcome"] == "queued"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # a worker applies it


def test_apply_task_query_budget(post_webhook, order, assert_max_queries, settings):
    # Lock the event (1), find and lock the order (2), update it and write its audit
    # row (2), record the outcome (1); paid: the confirmation email's row (2) and its
    # task's row (1), queued in the same transaction.
    settings.TASKS = DATABASE_TASKS
    OrderFactory.create_batch(20)
    post_webhook(payment_intent_event("payment_intent.succeeded", order))
    record = WebhookEvent.objects.get()
    with assert_max_queries(6 + 3):
        assert webhooks.stripe_event_apply(event_pk=record.pk) == Outcome.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_duplicate_query_budget_does_not_grow(post_webhook, order, django_assert_max_num_queries):
    event = payment_intent_event("payment_intent.succeeded", order)
    post_webhook(event)
    for other in OrderFactory.create_batch(20):
        post_webhook(payment_intent_event("payment_intent.processing", other))
    assert WebhookEvent.objects.count() == 21

    with django_assert_max_num_queries(2):  # every statement counted, transaction control too
        response = post_webhook(event)
    assert response.json()["outcome"] == "duplicate"
    assert WebhookEvent.objects.get(stripe_event_id=event["id"]).attempts == 1


def test_ignored_event_query_budget(post_webhook, assert_max_queries):
    # The request's 3 (see above) and the task's: lock the event, record the outcome.
    with assert_max_queries(5):
        post_webhook(stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))


def test_orders_are_not_touched_by_unrelated_events(post_webhook, order):
    post_webhook(
        stripe_event("charge.succeeded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_x"})
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_the_event_is_stored_on_arrival_as_received_before_it_is_applied(post_webhook, order, monkeypatch):
    event = payment_intent_event("payment_intent.succeeded", order)
    real_handler = webhooks.EVENT_HANDLERS[event["type"]]
    seen = {}

    def look_at_the_stored_row(evt, obj):
        row = WebhookEvent.objects.get(stripe_event_id=evt["id"])
        seen.update(outcome=row.outcome, received_at=row.received_at, attempts=row.attempts)
        return real_handler(evt, obj)

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, event["type"], look_at_the_stored_row)
    post_webhook(event)

    assert (seen["outcome"], seen["attempts"]) == (Outcome.RECEIVED, 0)
    record = WebhookEvent.objects.get()
    assert (record.outcome, record.attempts) == (Outcome.PROCESSED, 1)
    assert record.received_at == seen["received_at"] < record.processed_at
