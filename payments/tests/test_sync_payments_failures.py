"""sync_payments failure drills: Stripe unreachable, 5xx or rate limiting stops the run, non-zero."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.utils import timezone

from payments.models import WebhookEvent
from payments.services import webhooks
from payments.tests.events import payment_intent_event
from payments.tests.fakes import CONNECTION_REFUSED, TIMEOUT
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


@pytest.fixture
def old_orders():
    orders = [OrderFactory(), OrderFactory()]
    Order.objects.update(created_at=timezone.now() - timedelta(hours=1))
    return orders


@pytest.mark.parametrize("failure", [TIMEOUT, CONNECTION_REFUSED, 500, 429])
def test_stripe_unreachable_stops_the_run_with_an_error(stripe_outage, old_orders, failure):
    outage = stripe_outage(failure)
    out = StringIO()

    with pytest.raises(CommandError) as error:
        call_command("sync_payments", stdout=out)

    assert str(error.value) == (
        "Stripe could not be reached: no answer, a 5xx error or rate limiting "
        "(checked 0, changed 0, failed 1)"
    )
    assert len(outage.requests) == 1  # stopped at the health check, not once per order
    assert "Stripe health check: FAILED" in out.getvalue()
    assert {o.status for o in Order.objects.all()} == {OrderStatus.PENDING}


@pytest.mark.parametrize("failure", [TIMEOUT, 500])
def test_with_nothing_to_reconcile_an_unreachable_stripe_still_fails_the_run(stripe_outage, failure):
    outage = stripe_outage(failure)

    with pytest.raises(CommandError, match="Stripe could not be reached"):
        call_command("sync_payments", stdout=StringIO())

    assert len(outage.requests) == 1


def test_with_nothing_to_reconcile_each_run_asks_stripe_once(stripe_outage):
    calls = stripe_outage(then_real=True)
    out = StringIO()

    call_command("sync_payments", stdout=out)

    assert [url.split("?")[0].rsplit("/", 1)[-1] for _, url in calls.requests] == ["payment_intents"]
    assert "checked 0, changed 0, failed 0" in out.getvalue()


def test_a_stripe_key_stripe_refuses_fails_the_run(stripe_outage):
    stripe_outage((401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}))

    with pytest.raises(CommandError, match="STRIPE_SECRET_KEY"):
        call_command("sync_payments", stdout=StringIO())


def test_the_process_exits_non_zero(stripe_outage, old_orders, capsys):
    stripe_outage(503)

    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "sync_payments"])

    assert exit_.value.code == 1
    assert "Stripe could not be reached" in capsys.readouterr().err


def test_abandoned_orders_are_not_canceled_here_when_stripe_cannot_cancel_them(stripe_outage):
    order = OrderFactory()
    Order.objects.update(created_at=timezone.now() - timedelta(hours=30))
    stripe_outage(500)

    with pytest.raises(CommandError):
        call_command("sync_payments", stdout=StringIO())

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_failed_webhook_events_are_requeued_even_when_stripe_cannot_be_reached(
    stripe_outage, post_webhook, monkeypatch
):
    """Applying a stored event needs no Stripe call: the re-queue does not wait for Stripe."""
    order = OrderFactory()
    handler = webhooks.EVENT_HANDLERS["payment_intent.succeeded"]
    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", lambda *args: 1 / 0)
    post_webhook(payment_intent_event("payment_intent.succeeded", order))
    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", handler)
    stripe_outage(500)
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("sync_payments", stdout=out)

    assert "webhook events queued again (task lost, or failed < 5 times): 1" in out.getvalue()
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
