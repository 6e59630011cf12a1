"""`manage.py sync_payments` against the emulator: catch up, cancel abandoned, replay, report."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.models import Refund, WebhookEvent
from payments.services import webhooks
from payments.stripe_client import stripe_client
from payments.tests.emulator import emulator_refunds, payment_intent_on_emulator
from payments.tests.events import payment_intent_event
from payments.tests.factories import RefundFactory, WebhookEventFactory
from shop.orders.emails import CONFIRMATION, order_email_record
from shop.orders.models import Order, OrderEmail, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


def sync(*args: str) -> str:
    out = StringIO()
    call_command("sync_payments", *args, stdout=out)
    return out.getvalue()


def aged(order: Order, *, minutes: int = 0, hours: int = 0) -> Order:
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes, hours=hours)
    )
    order.refresh_from_db()
    return order


def order_with_intent(*, payment_method: str | None, minutes: int = 30, hours: int = 0, **fields) -> Order:
    order = OrderFactory(payment_intent_id=None, **fields)
    payment_intent_on_emulator(order, payment_method=payment_method)
    return aged(order, minutes=minutes, hours=hours)


def intent_status(order: Order) -> str:
    return stripe_client().v1.payment_intents.retrieve(order.payment_intent_id).status


def test_a_pending_order_paid_on_stripe_becomes_paid(mailoutbox):
    order = order_with_intent(payment_method="pm_card_visa")

    output = sync()

    order.refresh_from_db()
    assert (order.status, order.amount_received) == (OrderStatus.PAID, 2300)
    assert order.status_changes.last().cause == "sync_payments"
    assert f"order {order.number}: pending -> paid (PaymentIntent succeeded)" in output
    assert output.strip().endswith("checked 1, changed 1, failed 0")


def test_a_pending_order_whose_payment_failed_becomes_failed():
    order = order_with_intent(payment_method="pm_card_chargeCustomerFail")

    output = sync()

    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert order.failure_message
    assert f"order {order.number}: pending -> failed" in output


def test_a_processing_order_is_checked_too():
    order = order_with_intent(payment_method="pm_card_visa", status=OrderStatus.PROCESSING)

    sync()

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_orders_younger_than_the_threshold_are_left_to_their_webhooks():
    young = order_with_intent(payment_method="pm_card_visa", minutes=2)

    output = sync("--older-than", "10")

    young.refresh_from_db()
    assert young.status == OrderStatus.PENDING
    assert output.strip().endswith("checked 0, changed 0, failed 0")


def test_a_second_run_changes_nothing():
    paid = order_with_intent(payment_method="pm_card_visa")
    open_ = order_with_intent(payment_method=None)
    sync()

    output = sync()

    assert f"order {open_.number}: unchanged (pending; PaymentIntent requires_payment_method)" in output
    assert paid.number not in output  # paid now: no longer unsettled
    assert output.strip().endswith("checked 1, changed 0, failed 0")


def test_abandoned_pending_orders_are_canceled_on_stripe_and_here():
    abandoned = order_with_intent(payment_method=None, hours=25)
    recent = order_with_intent(payment_method=None, hours=2)

    output = sync("--cancel-abandoned-after", "24")

    abandoned.refresh_from_db()
    recent.refresh_from_db()
    assert (abandoned.status, intent_status(abandoned)) == (OrderStatus.CANCELED, "canceled")
    assert (recent.status, intent_status(recent)) == (OrderStatus.PENDING, "requires_payment_method")
    assert f"order {abandoned.number}: pending -> canceled (abandoned; PaymentIntent canceled)" in output
    assert output.strip().endswith("checked 2, changed 1, failed 0")


def test_an_abandoned_order_without_a_payment_intent_is_canceled_here():
    order = aged(OrderFactory(payment_intent_id=None), hours=30)

    sync()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED


def test_an_old_order_that_was_actually_paid_is_marked_paid_not_canceled():
    order = order_with_intent(payment_method="pm_card_visa", hours=48)

    sync()

    order.refresh_from_db()
    assert (order.status, intent_status(order)) == (OrderStatus.PAID, "succeeded")


def test_the_abandonment_age_comes_from_settings_and_zero_cancels_nothing(settings):
    settings.ORDER_ABANDON_AFTER_HOURS = 0
    order = order_with_intent(payment_method=None, hours=100)

    sync()

    order.refresh_from_db()
    assert (order.status, intent_status(order)) == (OrderStatus.PENDING, "requires_payment_method")


def test_one_order_only(mailoutbox):
    chosen = order_with_intent(payment_method="pm_card_visa", minutes=1)  # younger than the threshold
    other = order_with_intent(payment_method="pm_card_visa")

    output = sync("--order", chosen.number)

    chosen.refresh_from_db()
    other.refresh_from_db()
    assert (chosen.status, other.status) == (OrderStatus.PAID, OrderStatus.PENDING)
    assert other.number not in output


def test_an_unknown_order_number_is_an_error():
    with pytest.raises(CommandError, match="No order numbered SP-NOPE"):
        sync("--order", "SP-NOPE")


def test_dry_run_changes_nothing():
    order = order_with_intent(payment_method="pm_card_visa")
    abandoned = order_with_intent(payment_method=None, hours=30)

    output = sync("--dry-run")

    order.refresh_from_db()
    abandoned.refresh_from_db()
    assert (order.status, abandoned.status) == (OrderStatus.PENDING, OrderStatus.PENDING)
    assert intent_status(abandoned) == "requires_payment_method"
    assert "Dry run: checked 2, changed 0, failed 0" in output


def test_replay_failed_events_reprocesses_them_like_the_webhook(monkeypatch, post_webhook, mailoutbox):
    order = OrderFactory()
    event = payment_intent_event("payment_intent.succeeded", order)
    handler = webhooks.EVENT_HANDLERS["payment_intent.succeeded"]

    def broken(*args):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", broken)
    assert post_webhook(event).json()["outcome"] == "failed"
    assert WebhookEvent.objects.get().outcome == "failed"
    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", handler)

    output = sync("--replay-failed-events", "--older-than", "60")

    record = WebhookEvent.objects.get()
    assert (record.outcome, record.attempts, record.error) == ("processed", 2, "")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert f"event {event['id']} (payment_intent.succeeded): replayed: processed" in output
    assert output.strip().endswith("checked 1, changed 1, failed 0")
    assert "checked 0, changed 0, failed 0" in sync("--replay-failed-events", "--older-than", "60")


def test_a_replay_that_fails_again_is_counted_and_kept_failed(monkeypatch, post_webhook):
    event = payment_intent_event("payment_intent.succeeded", OrderFactory())

    def broken(*args):
        raise RuntimeError("still broken")

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", broken)
    post_webhook(event)

    output = sync("--replay-failed-events", "--older-than", "60")

    assert f"event {event['id']} (payment_intent.succeeded): FAILED (RuntimeError)" in output
    assert output.strip().endswith("checked 1, changed 0, failed 1")
    # Then, below the attempt limit, its task is queued again (here the immediate backend runs it).
    assert "webhook events queued again (task lost, or failed < 5 times): 1" in output
    assert WebhookEvent.objects.get().attempts == 3


def test_every_run_requeues_failed_events_below_the_attempt_limit(monkeypatch, post_webhook, mailoutbox):
    """Stripe got a 200 and does not retry: sync_payments does, without --replay-failed-events."""
    order = OrderFactory()
    handler = webhooks.EVENT_HANDLERS["payment_intent.succeeded"]

    def broken(*args):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", broken)
    post_webhook(payment_intent_event("payment_intent.succeeded", order))
    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", handler)

    output = sync("--older-than", "60")

    assert "webhook events queued again (task lost, or failed < 5 times): 1" in output
    assert (WebhookEvent.objects.get().outcome, WebhookEvent.objects.get().attempts) == ("processed", 2)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert "queued again" not in sync("--older-than", "60")


def test_a_dry_run_requeues_nothing(monkeypatch, post_webhook):
    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", lambda *args: 1 / 0)
    post_webhook(payment_intent_event("payment_intent.succeeded", OrderFactory()))

    output = sync("--dry-run")

    assert "queued again" not in output
    assert WebhookEvent.objects.get().attempts == 1


def test_a_payment_intent_stripe_does_not_know_is_reported_and_the_run_goes_on(mailoutbox):
    unknown = aged(OrderFactory(payment_intent_id="pi_missing0000"), minutes=40)
    known = order_with_intent(payment_method="pm_card_visa")

    output = sync()

    assert f"order {unknown.number}: FAILED" in output
    known.refresh_from_db()
    assert known.status == OrderStatus.PAID
    assert output.strip().endswith("checked 2, changed 1, failed 1")


def test_an_unconfirmed_refund_found_on_stripe_is_recorded(mailoutbox):
    order = order_with_intent(payment_method="pm_card_visa", status=OrderStatus.PAID, amount_received=2300)
    key = "order-test-refund-0-700"
    refund = RefundFactory(order=order, amount=700, idempotency_key=key)
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    stripe_client().v1.refunds.create(
        params={"payment_intent": order.payment_intent_id, "amount": 700, "metadata": {"refund_key": key}}
    )

    output = sync()

    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 700)
    assert f"refund #{refund.pk} (order {order.number}): pending -> succeeded" in output


def test_an_unconfirmed_refund_stripe_never_received_is_marked_failed(mailoutbox):
    order = order_with_intent(payment_method="pm_card_visa", status=OrderStatus.PAID, amount_received=2300)
    refund = RefundFactory(order=order, amount=700, idempotency_key="never-sent")
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=30))

    sync()

    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == ("failed", None)
    assert "never reached it" in refund.failure_reason
    assert emulator_refunds(order.payment_intent_id) == []
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.PAID, 0)


def test_confirmation_emails_that_failed_or_were_lost_are_queued_again(mailoutbox):
    paid = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now(), confirmation_sent_at=None)
    email = order_email_record(order=paid, kind=CONFIRMATION)  # its task failed, or its worker died
    OrderEmail.objects.filter(pk=email.pk).update(queued_at=timezone.now() - timedelta(minutes=30))

    output = sync()

    assert [message.to for message in mailoutbox] == [[paid.email]]
    assert "emails queued again (failed or lost before): 1" in output
    paid.refresh_from_db()
    assert paid.confirmation_sent_at is not None
    assert "queued again" not in sync()  # sent once


def events_received_days_ago(days: int, *outcomes: str) -> list[WebhookEvent]:
    events = [WebhookEventFactory(outcome=outcome) for outcome in outcomes]
    WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        received_at=timezone.now() - timedelta(days=days)
    )
    return events


def test_prune_events_deletes_old_processed_and_ignored_events_and_keeps_failed_ones():
    Outcome = WebhookEvent.Outcome
    old_processed, old_ignored, old_failed, old_received = events_received_days_ago(
        91, Outcome.PROCESSED, Outcome.IGNORED, Outcome.FAILED, Outcome.RECEIVED
    )
    (recent,) = events_received_days_ago(89, Outcome.PROCESSED)

    output = sync("--prune-events")

    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {
        old_failed.pk,
        old_received.pk,
        recent.pk,
    }
    assert "older than 90 days, processed or ignored: deleted 2" in output


def test_prune_events_takes_the_age_in_days_and_a_dry_run_deletes_nothing():
    events_received_days_ago(10, WebhookEvent.Outcome.PROCESSED)

    assert "deleted 0" in sync("--prune-events", "30")
    assert "would delete 1" in sync("--prune-events", "7", "--dry-run")
    assert WebhookEvent.objects.count() == 1
    assert "deleted 1" in sync("--prune-events", "7")
    assert not WebhookEvent.objects.exists()


def test_prune_events_needs_at_least_a_day():
    with pytest.raises(CommandError, match="at least 1 day"):
        sync("--prune-events", "0")
