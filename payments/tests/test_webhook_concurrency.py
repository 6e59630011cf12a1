"""Concurrent and interrupted deliveries, on PostgreSQL (real row locks, real connections)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings as django_settings
from django.core import mail
from django.db import connection

from payments.models import WebhookEvent
from payments.services.webhooks import stripe_event_apply
from payments.tests.events import payment_intent_event
from shop.orders.models import OrderStatus, OrderStatusChange
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once, webhook_delivery
from tests.tasks_worker import DATABASE_TASKS

IMMEDIATE_TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": django_settings.TASK_QUEUES,
    }
}

ROOT = Path(__file__).resolve().parents[2]


@postgres_only
def test_the_same_event_delivered_twenty_times_at_once_is_stored_and_applied_once(transactional_db):
    """Each delivery its own thread and connection; the tasks run in the request (immediate backend)."""
    order = OrderFactory()
    event = payment_intent_event("payment_intent.succeeded", order)

    results = run_at_once(*[webhook_delivery(event)] * 20)

    assert sorted(results) == ["duplicate"] * 19 + ["processed"]
    record = WebhookEvent.objects.get()
    assert (record.outcome, record.attempts) == ("processed", 1)
    assert OrderStatusChange.objects.filter(order=order, to_status="paid").count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert [m.to for m in mail.outbox] == [[order.email]]  # one confirmation


@postgres_only
def test_conflicting_events_at_once_end_paid_whatever_the_order(transactional_db):
    for _ in range(3):
        order = OrderFactory()
        events = [
            payment_intent_event("payment_intent.processing", order),
            payment_intent_event("payment_intent.payment_failed", order),
            payment_intent_event("payment_intent.succeeded", order),
        ]

        results = run_at_once(*map(webhook_delivery, events))

        assert results == ["processed"] * 3
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID
        changes = list(order.status_changes.values_list("from_status", "to_status"))
        assert changes[-1][1] == "paid"
        assert all(to != "pending" for _, to in changes)


KILLED_WORKER_SCRIPT = """
import sys, time
import django
django.setup()
from shop.orders import services
from payments.services.webhooks import stripe_event_apply

apply = services._order_apply

def apply_then_hang(*args, **kwargs):
    result = apply(*args, **kwargs)
    open(sys.argv[2], "w").write("order updated, transaction still open")
    time.sleep(60)
    return result

services._order_apply = apply_then_hang
stripe_event_apply(event_pk=int(sys.argv[1]))
"""


@postgres_only
def test_a_worker_killed_mid_apply_leaves_no_half_applied_state(
    transactional_db, tmp_path, post_webhook, settings
):
    settings.TASKS = DATABASE_TASKS  # stored and queued; the task runs in the process killed below
    order = OrderFactory()
    event = payment_intent_event("payment_intent.succeeded", order)
    assert post_webhook(event).json()["outcome"] == "queued"
    marker = tmp_path / "applied"
    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    pk = str(WebhookEvent.objects.get().pk)
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER_SCRIPT, pk, str(marker)], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert worker.poll() is None, "the worker exited before applying the event"
            assert time.monotonic() < deadline, "the worker never applied the event"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)  # mid-transaction, like an OOM kill
    finally:
        worker.wait(timeout=10)

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not order.status_changes.exists()
    # The delivery is on record (stored on arrival), its outcome never written.
    record = WebhookEvent.objects.get()
    assert (record.stripe_event_id, record.outcome, record.attempts) == (
        event["id"],
        WebhookEvent.Outcome.RECEIVED,
        0,
    )

    settings.TASKS = IMMEDIATE_TASKS
    response = post_webhook(event)  # a redelivery (or sync_payments' re-queue) applies it

    assert response.json()["outcome"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@postgres_only
def test_webhook_query_budgets_with_djangos_own_counter(
    transactional_db, post_webhook, django_assert_max_num_queries, django_assert_num_queries, settings
):
    """On PostgreSQL, outside a test transaction, Django's own counter sees what production runs."""
    settings.TASKS = DATABASE_TASKS
    order = OrderFactory()
    OrderFactory.create_batch(20)
    processing = payment_intent_event("payment_intent.processing", order)
    succeeded = payment_intent_event("payment_intent.succeeded", order)

    # The request: is it handled already; BEGIN, get (locked) or create (in a savepoint),
    # its task's row, COMMIT.
    with django_assert_num_queries(8):
        assert post_webhook(processing).json()["outcome"] == "queued"
    # Not applied yet, so a redelivery queues it again (the task applies it once).
    with django_assert_num_queries(5):
        assert post_webhook(processing).json()["outcome"] == "queued"
    event_pk = WebhookEvent.objects.get().pk

    # The task: BEGIN, lock the event, find the order, lock it and look for a newer
    # event already applied (processing and failed only), lock it again in the
    # transition (a no-op), update it, its audit row, the event's outcome, COMMIT.
    with django_assert_max_num_queries(10):
        assert stripe_event_apply(event_pk=event_pk) == "processed"
    with django_assert_num_queries(3):  # the second task: BEGIN, lock, COMMIT; nothing applied
        assert stripe_event_apply(event_pk=event_pk) == "duplicate"
    with django_assert_num_queries(1):  # a duplicate delivery of a handled event: one read
        assert post_webhook(processing).json()["outcome"] == "duplicate"

    with django_assert_num_queries(8):
        assert post_webhook(succeeded).json()["outcome"] == "queued"
    succeeded_pk = WebhookEvent.objects.latest("id").pk
    # Paid: BEGIN, lock the event, find the order, lock it, update it, its audit row,
    # the event's outcome, COMMIT (8), and in the same transaction the confirmation
    # email's row (2) and its task's row (1); a worker sends it.
    with django_assert_max_num_queries(8 + 3):
        assert stripe_event_apply(event_pk=succeeded_pk) == "processed"
