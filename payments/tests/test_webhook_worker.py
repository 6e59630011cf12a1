"""Webhook events applied by real `db_worker` processes on PostgreSQL, as in production.

The request stores the event and queues its task; a worker applies it. A
burst (with concurrent duplicate deliveries) is stored once and applied
once; a worker SIGKILLed in the middle of applying loses nothing: the other
events' tasks still wait for the next worker, and sync_payments queues the
interrupted event again.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from payments.models import WebhookEvent
from payments.services.webhooks import REQUEUE_RECEIVED_AFTER, webhook_events_requeue
from payments.tests.events import payment_intent_event
from shop.orders.models import Order, OrderStatus, OrderStatusChange
from shop.orders.tasks import order_email_send
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once, webhook_delivery
from tests.tasks_worker import ROOT, db_worker, finish, smtp_inbox

Outcome = WebhookEvent.Outcome


def applied_once(orders: list[Order]) -> None:
    """Every order paid by exactly one status change, every event processed on its first attempt."""
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {
        OrderStatus.PAID
    }
    paid_changes = Counter(
        OrderStatusChange.objects.filter(to_status=OrderStatus.PAID).values_list("order_id", flat=True)
    )
    assert paid_changes == Counter({o.pk: 1 for o in orders})
    assert WebhookEvent.objects.count() == len(orders)
    assert set(WebhookEvent.objects.values_list("outcome", "attempts")) == {(Outcome.PROCESSED, 1)}


@postgres_only
def test_a_burst_with_concurrent_duplicates_is_stored_once_and_applied_once_by_a_worker(database_tasks):
    orders = OrderFactory.create_batch(30)
    events = [payment_intent_event("payment_intent.succeeded", order) for order in orders]
    for first in range(0, len(events), 6):  # each event delivered twice at the same moment
        batch = events[first : first + 6]
        outcomes = run_at_once(*[webhook_delivery(event) for event in batch * 2])
        assert outcomes == ["queued"] * len(batch) * 2
    assert WebhookEvent.objects.count() == 30
    assert set(WebhookEvent.objects.values_list("outcome", flat=True)) == {Outcome.RECEIVED}

    with smtp_inbox() as inbox:
        worker = db_worker(inbox, "--batch")
        finish(worker, timeout=120)

    applied_once(orders)
    assert sorted(inbox.recipients()) == sorted(o.email for o in orders)  # one confirmation each
    for event in events[:3]:  # redelivered once handled: acknowledged, nothing queued
        assert webhook_delivery(event)() == "duplicate"


@postgres_only
def test_twenty_deliveries_of_one_event_at_once_store_it_once_and_a_worker_applies_it_once(database_tasks):
    order = OrderFactory()
    event = payment_intent_event("payment_intent.succeeded", order)

    outcomes = run_at_once(*[webhook_delivery(event)] * 20)

    assert outcomes == ["queued"] * 20  # each acknowledged once its transaction committed
    assert WebhookEvent.objects.get().outcome == Outcome.RECEIVED
    with smtp_inbox() as inbox:
        finish(db_worker(inbox, "--batch"), timeout=120)

    applied_once([order])
    emails = DBTaskResult.objects.filter(task_path=order_email_send.module_path)
    assert emails.count() == 1  # one confirmation task, one email
    assert inbox.recipients() == [order.email]


# A real db_worker whose tenth apply hangs after updating its order, in the
# open transaction, until the test kills it.
HANGING_WORKER_SCRIPT = """
import sys, time
import django
django.setup()
from django.core.management import call_command
from shop.orders import services

apply = services._order_apply
applied = []

def apply_then_hang_on_the_tenth(*args, **kwargs):
    result = apply(*args, **kwargs)
    applied.append(1)
    if len(applied) == 10:
        open(sys.argv[1], "w").write("order updated, transaction still open")
        time.sleep(120)
    return result

services._order_apply = apply_then_hang_on_the_tenth
call_command("db_worker", "--queue-name", "webhooks", "--interval", "0.1", "--no-startup-delay")
"""


@postgres_only
def test_a_worker_killed_mid_burst_loses_nothing(database_tasks, tmp_path):
    orders = OrderFactory.create_batch(25)
    for order in orders:
        assert webhook_delivery(payment_intent_event("payment_intent.succeeded", order))() == "queued"
    marker = tmp_path / "hanging"

    with smtp_inbox() as inbox:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings_worker",
            "WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
            "WORKER_SMTP_PORT": str(inbox.port),
        }
        with tempfile.TemporaryFile(mode="w+") as log:
            worker = subprocess.Popen(
                [sys.executable, "-c", HANGING_WORKER_SCRIPT, str(marker)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 60
                while not marker.exists():
                    log.seek(0)
                    assert worker.poll() is None, f"the worker exited:\n{log.read()[-3000:]}"
                    assert time.monotonic() < deadline, "the worker never reached its tenth event"
                    time.sleep(0.05)
                os.kill(worker.pid, signal.SIGKILL)  # mid-transaction, like an OOM kill
            finally:
                if worker.poll() is None:
                    worker.kill()
                worker.wait(timeout=10)

        # Nine applied; the tenth rolled back with the worker (its event still RECEIVED, its
        # task left "running" by the dead worker); the rest still RECEIVED, their tasks READY.
        assert Order.objects.filter(status=OrderStatus.PAID).count() == 9
        assert WebhookEvent.objects.filter(outcome=Outcome.RECEIVED).count() == 16
        finish(db_worker(inbox, "--batch"), timeout=120)  # the restarted worker takes the rest
        interrupted = WebhookEvent.objects.get(outcome=Outcome.RECEIVED)

        # sync_payments queues the interrupted one again once it is old enough to be lost.
        assert webhook_events_requeue() == 0
        long_ago = timezone.now() - REQUEUE_RECEIVED_AFTER - timedelta(seconds=1)
        WebhookEvent.objects.filter(pk=interrupted.pk).update(received_at=long_ago)
        assert webhook_events_requeue() == 1
        finish(db_worker(inbox, "--batch"), timeout=120)
        assert not WebhookEvent.objects.filter(outcome=Outcome.RECEIVED).exists()

    applied_once(orders)
    assert sorted(inbox.recipients()) == sorted(o.email for o in orders)
