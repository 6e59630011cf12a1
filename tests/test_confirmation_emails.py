"""The order confirmation email: content, exactly once, and a failing mail server."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from payments.tests.events import payment_intent_object, stripe_event
from shop.catalog.tests.factories import BookFactory
from shop.orders.emails import order_confirmation_send, order_confirmations_resend
from shop.orders.models import OrderItem, OrderStatus
from shop.orders.services import order_mark_paid, order_mark_processing
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once

pytestmark = pytest.mark.django_db


class SMTPDownBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server at mail.example.com:587 refused the connection")


def paid_event(intent: dict, event_id: str) -> dict:
    return stripe_event("payment_intent.succeeded", intent, event_id=event_id)


@pytest.fixture
def two_book_order():
    order = OrderFactory(items=False, total_amount=2300 * 2 + 2800, email="ada@example.com")
    hamming = BookFactory(title="The Art of Doing Science & Engineering", price_amount=2300)
    eghbal = BookFactory(title="Working in Public", price_amount=2800)
    OrderItem.objects.create(order=order, book=hamming, title=hamming.title, unit_amount=2300, quantity=2)
    OrderItem.objects.create(order=order, book=eghbal, title=eghbal.title, unit_amount=2800, quantity=1)
    return order


def test_confirmation_content(two_book_order, django_capture_on_commit_callbacks):
    order = two_book_order
    with django_capture_on_commit_callbacks(execute=True):
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


def test_sent_once_whoever_sees_the_payment_first(
    client, post_webhook, stripe_outage, django_capture_on_commit_callbacks
):
    """Webhook, then success page, then a redelivery and a second event: one email."""
    order = OrderFactory(email="grace@example.com")
    intent = payment_intent_object(order)
    stripe_outage((200, intent))  # Stripe answers with this intent

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post_webhook(paid_event(intent, "evt_email_1")).status_code == 200
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1

    success_url = reverse("payments:success")
    query = {"payment_intent": intent["id"], "payment_intent_client_secret": intent["client_secret"]}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(success_url, query)
        assert post_webhook(paid_event(intent, "evt_email_1")).status_code == 200
        assert post_webhook(paid_event(intent, "evt_email_2")).status_code == 200
    assert response.status_code == 200
    assert order.number in response.content.decode()
    assert callbacks == []  # already paid: nothing scheduled
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grace@example.com"]


def test_success_page_first_then_webhook(
    client, post_webhook, stripe_outage, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    intent = payment_intent_object(order)
    stripe_outage((200, intent))  # Stripe answers with this intent
    query = {"payment_intent": intent["id"], "payment_intent_client_secret": intent["client_secret"]}

    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(reverse("payments:success"), query).status_code == 200
        assert post_webhook(paid_event(intent, "evt_email_3")).status_code == 200
        assert client.get(reverse("payments:success"), query).status_code == 200

    assert len(mail.outbox) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_no_email_until_paid(django_capture_on_commit_callbacks):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_processing(order=order, cause="test")
    assert mail.outbox == []
    assert order_confirmation_send(order_id=order.pk) is False  # not paid: nothing to confirm
    assert mail.outbox == []


def test_claim_is_exclusive(django_capture_on_commit_callbacks):
    """A second sender (another process, a reconciliation pass) finds the claim taken."""
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
    assert order_confirmation_send(order_id=order.pk) is True
    callbacks[0]()  # the on-commit send runs late: already claimed
    assert order_confirmations_resend() == 0
    assert len(mail.outbox) == 1


def test_failing_mail_server_keeps_the_order_paid_and_logs(
    post_webhook, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.SMTPDownBackend"
    order = OrderFactory()
    intent = payment_intent_object(order)

    with (
        caplog.at_level(logging.ERROR, logger="shop.orders.emails"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_webhook(paid_event(intent, "evt_email_smtp_down"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.confirmation_sent_at is None  # released: a later pass may retry
    failures = [r for r in caplog.records if r.getMessage() == "order_confirmation_failed"]
    assert len(failures) == 1
    assert (failures[0].order, failures[0].error) == (order.number, "ConnectionRefusedError")

    # The mail server is back: the resend pass delivers it, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert order_confirmations_resend() == 1
    assert order_confirmations_resend() == 0
    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject


def test_a_later_sighting_of_the_paid_order_retries_a_failed_send(
    client, post_webhook, settings, stripe_outage, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    intent = payment_intent_object(order)
    stripe_outage((200, intent))  # Stripe answers with this intent
    settings.EMAIL_BACKEND = f"{__name__}.SMTPDownBackend"
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(paid_event(intent, "evt_email_retry"))
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    query = {"payment_intent": intent["id"], "payment_intent_client_secret": intent["client_secret"]}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(reverse("payments:success"), query).status_code == 200  # the shopper reloads
        assert client.get(reverse("payments:success"), query).status_code == 200
        post_webhook(paid_event(intent, "evt_email_retry_2"))
    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject


def test_resend_skips_old_and_unpaid_orders():
    old = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now() - timedelta(days=30))
    OrderFactory(status=OrderStatus.PENDING)
    recent = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now() - timedelta(hours=1))

    assert order_confirmations_resend() == 1
    assert [m.to for m in mail.outbox] == [[recent.email]]
    old.refresh_from_db()
    assert old.confirmation_sent_at is None


@postgres_only
def test_concurrent_senders_send_once(transactional_db):
    """Eight processes (threads with their own connections) race for one order's email."""
    order = OrderFactory(status=OrderStatus.PAID, paid_at=timezone.now())
    results = run_at_once(*[lambda: order_confirmation_send(order_id=order.pk)] * 8)

    assert sorted(results) == [False] * 7 + [True]
    assert len(mail.outbox) == 1
