"""The order confirmation email: content, exactly once, a failing mail server, lost sends.

Tasks run inline here (the immediate backend of config/settings_test.py):
what is sent, and how often, is the point. Queue behaviour (the task row
committing with the order, real workers, crashes) is in tests/test_tasks_*.py.
"""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from payments.tests.events import payment_intent_object, stripe_event
from shop.catalog.tests.factories import BookFactory
from shop.orders.emails import CONFIRMATION, OrderEmailNotSent, order_email_deliver, order_email_record
from shop.orders.models import OrderEmail, OrderItem, OrderStatus
from shop.orders.services import order_mark_paid, order_mark_processing
from shop.orders.tasks import order_email_queue, order_emails_requeue
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once

pytestmark = pytest.mark.django_db


class SMTPDownBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server at mail.example.com:587 refused the connection")


def paid_event(intent: dict, event_id: str) -> dict:
    return stripe_event("payment_intent.succeeded", intent, event_id=event_id)


def queued_minutes_ago(email: OrderEmail, minutes: int, **fields) -> None:
    OrderEmail.objects.filter(pk=email.pk).update(
        queued_at=timezone.now() - timedelta(minutes=minutes), **fields
    )


@pytest.fixture
def two_book_order():
    order = OrderFactory(items=False, total_amount=2300 * 2 + 2800, email="ada@example.com")
    hamming = BookFactory(title="The Art of Doing Science & Engineering", price_amount=2300)
    eghbal = BookFactory(title="Working in Public", price_amount=2800)
    OrderItem.objects.create(order=order, book=hamming, title=hamming.title, unit_amount=2300, quantity=2)
    OrderItem.objects.create(order=order, book=eghbal, title=eghbal.title, unit_amount=2800, quantity=1)
    return order


def test_confirmation_content(two_book_order):
    order = two_book_order
    order_mark_paid(order=order, amount_received=order.total_amount, cause="test")

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ada@example.com"]
    assert order.number in email.subject
    for body in (email.body, email.alternatives[0][0]):
        assert order.number in body
        assert order.payment_intent_id in body
        assert "$74.00" in body  # total: 2 × $23.00 + $28.00
        assert "$46.00" in body and "$28.00" in body  # line amounts
        assert "Working in Public" in body
    # Plain text is not HTML-escaped; the HTML part is.
    assert "2 × The Art of Doing Science & Engineering — $23.00 each" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "Science &amp; Engineering" in html
    order.refresh_from_db()
    assert order.confirmation_sent_at is not None
    record = OrderEmail.objects.get(order=order, kind=CONFIRMATION)
    assert (record.sent_at, record.attempts, record.last_error) == (order.confirmation_sent_at, 1, "")


def test_sent_once_whoever_sees_the_payment_first(client, post_webhook, stripe_outage):
    """Webhook, then success page, then a redelivery and a second event: one email."""
    order = OrderFactory(email="grace@example.com")
    intent = payment_intent_object(order)
    stripe_outage((200, intent))  # Stripe answers with this intent

    assert post_webhook(paid_event(intent, "evt_email_1")).status_code == 200
    assert len(mail.outbox) == 1

    query = {"payment_intent": intent["id"], "payment_intent_client_secret": intent["client_secret"]}
    response = client.get(reverse("payments:success"), query)
    assert post_webhook(paid_event(intent, "evt_email_1")).status_code == 200
    assert post_webhook(paid_event(intent, "evt_email_2")).status_code == 200
    assert response.status_code == 200
    assert order.number in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grace@example.com"]
    assert OrderEmail.objects.filter(order=order).count() == 1


def test_success_page_first_then_webhook(client, post_webhook, stripe_outage):
    order = OrderFactory()
    intent = payment_intent_object(order)
    stripe_outage((200, intent))  # Stripe answers with this intent
    query = {"payment_intent": intent["id"], "payment_intent_client_secret": intent["client_secret"]}

    assert client.get(reverse("payments:success"), query).status_code == 200
    assert post_webhook(paid_event(intent, "evt_email_3")).status_code == 200
    assert client.get(reverse("payments:success"), query).status_code == 200

    assert len(mail.outbox) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_no_email_until_paid():
    order = OrderFactory()
    order_mark_processing(order=order, cause="test")
    assert mail.outbox == []
    assert not OrderEmail.objects.exists()
    assert order_email_deliver(order_id=order.pk, kind=CONFIRMATION) is False  # nothing owed
    assert mail.outbox == []


def test_a_rolled_back_payment_owes_no_email():
    order = OrderFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
        raise RuntimeError("the webhook failed after applying")
    assert not OrderEmail.objects.exists()


def test_each_kind_is_queued_once_and_unknown_kinds_are_refused():
    order = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now())
    assert order_email_queue(order=order, kind=CONFIRMATION) is True
    assert order_email_queue(order=order, kind=CONFIRMATION) is False
    assert len(mail.outbox) == 1
    with pytest.raises(ValueError, match="Unknown order email kind"):
        order_email_record(order=order, kind="birthday")


def test_a_sent_email_is_never_sent_again():
    order = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now())
    order_email_queue(order=order, kind=CONFIRMATION)
    assert order_email_deliver(order_id=order.pk, kind=CONFIRMATION) is False  # a duplicate task
    queued_minutes_ago(OrderEmail.objects.get(), 60)
    assert order_emails_requeue() == 0
    assert len(mail.outbox) == 1


def test_failing_mail_server_keeps_the_order_paid_and_logs(post_webhook, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.SMTPDownBackend"
    order = OrderFactory()
    intent = payment_intent_object(order)

    with caplog.at_level(logging.ERROR, logger="shop.orders.emails"):
        response = post_webhook(paid_event(intent, "evt_email_smtp_down"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.confirmation_sent_at) == (OrderStatus.PAID, None)
    record = OrderEmail.objects.get(order=order)
    assert (record.sent_at, record.claimed_at, record.attempts) == (None, None, 1)  # released for a retry
    assert record.last_error.startswith("ConnectionRefusedError: SMTP server")
    failures = [r for r in caplog.records if r.getMessage() == "order_email_failed"]
    assert len(failures) == 1
    assert (failures[0].order, failures[0].error) == (order.number, "ConnectionRefusedError")

    # Not yet: the retry pass leaves a just-queued email to its task.
    assert order_emails_requeue() == 0
    # The mail server is back, and the email has waited long enough: sent once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    queued_minutes_ago(record, 11)
    assert order_emails_requeue() == 1
    assert order_emails_requeue() == 0
    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject
    record.refresh_from_db()
    assert record.attempts == 2 and record.sent_at is not None


def test_the_task_fails_visibly_when_the_mail_server_does(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SMTPDownBackend"
    order = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now())
    order_email_record(order=order, kind=CONFIRMATION)
    with pytest.raises(OrderEmailNotSent, match=order.number):
        order_email_deliver(order_id=order.pk, kind=CONFIRMATION)


def test_a_claim_left_by_a_killed_worker_is_sent_once_it_is_stale():
    """Issue 9.5: claimed, never sent (the worker died): retried after the lease, not before."""
    order = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now())
    record = order_email_record(order=order, kind=CONFIRMATION)
    queued_minutes_ago(record, 30, claimed_at=timezone.now() - timedelta(minutes=2))
    assert order_emails_requeue() == 0  # its worker may still be sending
    assert order_email_deliver(order_id=order.pk, kind=CONFIRMATION) is False
    assert mail.outbox == []

    OrderEmail.objects.filter(pk=record.pk).update(claimed_at=timezone.now() - timedelta(minutes=11))
    assert order_emails_requeue() == 1
    assert [m.to for m in mail.outbox] == [[order.email]]


def test_requeue_skips_old_emails():
    old = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now() - timedelta(days=30))
    recent = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now() - timedelta(hours=1))
    for order in (old, recent):
        queued_minutes_ago(order_email_record(order=order, kind=CONFIRMATION), 60)
    OrderEmail.objects.filter(order=old).update(created_at=timezone.now() - timedelta(days=30))

    assert order_emails_requeue() == 1
    assert [m.to for m in mail.outbox] == [[recent.email]]


@postgres_only
def test_concurrent_senders_send_once(transactional_db):
    """Eight workers (threads with their own connections) race for one order's email."""
    order = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now())
    order_email_record(order=order, kind=CONFIRMATION)
    results = run_at_once(*[lambda: order_email_deliver(order_id=order.pk, kind=CONFIRMATION)] * 8)

    assert sorted(results) == [False] * 7 + [True]
    assert len(mail.outbox) == 1


def test_the_email_and_the_orders_confirmation_are_recorded_sent_together(monkeypatch):
    """A worker dying between the two records leaves neither: the email is owed again, never half-known."""
    order = OrderFactory(status=OrderStatus.PAID)
    OrderEmail.objects.create(order=order, kind=CONFIRMATION, queued_at=timezone.now())
    update = type(OrderEmail.objects.all()).update

    def dies_on_the_order(queryset, **fields):
        if "confirmation_sent_at" in fields:
            raise SystemExit("worker killed")
        return update(queryset, **fields)

    monkeypatch.setattr(type(OrderEmail.objects.all()), "update", dies_on_the_order)
    with pytest.raises(SystemExit):
        order_email_deliver(order_id=order.pk, kind=CONFIRMATION)
    monkeypatch.undo()

    assert len(mail.outbox) == 1
    email = OrderEmail.objects.get()
    assert email.sent_at is None
    order.refresh_from_db()
    assert order.confirmation_sent_at is None
