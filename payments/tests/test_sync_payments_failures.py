"""sync_payments failure drills: Stripe unreachable, 5xx or rate limiting stops the run, non-zero."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.utils import timezone

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
        "(checked 1, changed 0, failed 1)"
    )
    assert len(outage.requests) == 1  # stopped at the first failure, not once per order
    assert "FAILED, Stripe unavailable; stopping" in out.getvalue()
    assert {o.status for o in Order.objects.all()} == {OrderStatus.PENDING}


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
