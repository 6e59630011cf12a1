"""PostgreSQL: `webhook_events_apply_received`, the task that applies the events still RECEIVED.

A webhook queues it only when none is waiting for a worker (test_webhook_one_statement.py),
so what must hold is that a task never stops while an event is on its way:
the advisory lock between the webhooks (shared, before their statement) and
a task deciding it is done (exclusive). The tests hold one side of it on a
connection of their own and watch the other side wait for it in pg_locks.
"""

import json
import threading

import psycopg
import pytest
from django.db import connection, connections
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from payments.models import WebhookEvent
from payments.services import webhooks
from payments.tasks import webhook_events_apply_received
from payments.tests.events import payment_intent_event
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, until, webhook_delivery

Outcome = WebhookEvent.Outcome


@pytest.fixture
def other_connection():
    """A connection of the test's own, outside Django, in a transaction the test ends."""
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as conn:
        yield conn


class InThread:
    """`call()` in a thread with its own database connection; `.result` once joined."""

    def __init__(self, call):
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(call,))
        self.thread.start()

    def _run(self, call):
        try:
            self.result = call()
        except Exception as exc:  # handed to the test
            self.result = exc
        finally:
            connections.close_all()

    def join(self):
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        return self.result


def advisory_lock_waiters(mode: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND mode = %s",
            [mode],
        )
        return cursor.fetchone()[0]


def received_event_stored_by(conn, order) -> None:
    """What a webhook in flight has done: the shared lock, then its event (not committed yet)."""
    event = payment_intent_event("payment_intent.succeeded", order)
    verified = webhooks.VerifiedEvent(event, json.dumps(event))
    with psycopg.ClientCursor(conn) as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [webhooks.RECEIVED_EVENTS_LOCK])
        cursor.execute(webhooks._store_sql("postgresql"), webhooks._store_params(verified))


@postgres_only
def test_a_task_with_nothing_left_waits_for_the_webhook_in_flight_and_applies_its_event(
    database_tasks, other_connection
):
    order = OrderFactory(total_amount=2300, currency="usd")
    received_event_stored_by(other_connection, order)

    task = InThread(webhooks.stripe_events_apply_received)
    assert until(lambda: advisory_lock_waiters("ExclusiveLock") == 1)  # it waits, it has not stopped
    other_connection.commit()

    assert task.join() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert WebhookEvent.objects.get().outcome == Outcome.PROCESSED


@postgres_only
def test_a_webhook_takes_the_lock_before_it_stores_its_event(database_tasks, other_connection):
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [webhooks.RECEIVED_EVENTS_LOCK])
    order = OrderFactory(total_amount=2300, currency="usd")

    delivery = InThread(webhook_delivery(payment_intent_event("payment_intent.succeeded", order)))
    assert until(lambda: advisory_lock_waiters("ShareLock") == 1)
    assert not WebhookEvent.objects.exists()
    other_connection.commit()

    assert delivery.join() == "queued"
    assert WebhookEvent.objects.get().outcome == Outcome.RECEIVED


@postgres_only
def test_a_failing_event_is_recorded_and_the_next_one_applied(database_tasks, post_webhook, monkeypatch):
    failing, fine = OrderFactory.create_batch(2, total_amount=2300, currency="usd")
    for order in (failing, fine):
        post_webhook(payment_intent_event("payment_intent.succeeded", order))
    real_handler = webhooks.EVENT_HANDLERS["payment_intent.succeeded"]

    def crash_for_the_first(event, obj):
        if obj["id"] == failing.payment_intent_id:
            raise RuntimeError("boom for one event")
        return real_handler(event, obj)

    monkeypatch.setitem(webhooks.EVENT_HANDLERS, "payment_intent.succeeded", crash_for_the_first)

    assert webhooks.stripe_events_apply_received() == 2

    first, second = WebhookEvent.objects.order_by("received_at", "pk")
    assert (first.outcome, first.attempts) == (Outcome.FAILED, 1)
    assert "boom for one event" in first.error
    assert (second.outcome, second.order_id) == (Outcome.PROCESSED, fine.pk)


@postgres_only
def test_after_its_limit_a_task_hands_over_to_a_successor(database_tasks, post_webhook):
    orders = OrderFactory.create_batch(3, total_amount=2300, currency="usd")
    for order in orders:
        post_webhook(payment_intent_event("payment_intent.succeeded", order))
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)  # the webhooks' task, at work

    assert webhooks.stripe_events_apply_received(limit=2) == 2

    outcomes = list(WebhookEvent.objects.order_by("received_at", "pk").values_list("outcome", flat=True))
    assert outcomes == [Outcome.PROCESSED, Outcome.PROCESSED, Outcome.RECEIVED]
    successor = DBTaskResult.objects.filter(task_path=webhook_events_apply_received.module_path)
    assert successor.filter(status=TaskResultStatus.READY).count() == 1

    assert webhook_events_apply_received.call() == 1  # what the successor does
    assert not WebhookEvent.objects.filter(outcome=Outcome.RECEIVED).exists()


@postgres_only
def test_a_starting_worker_resumes_the_queue_only_when_events_wait(database_tasks, post_webhook):
    assert webhooks.webhook_events_resume() is False  # nothing stored: nothing queued
    post_webhook(payment_intent_event("payment_intent.succeeded", OrderFactory()))
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)  # its task, left by a dead worker

    assert webhooks.webhook_events_resume() is True

    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    assert list(waiting.values_list("task_path", flat=True)) == [webhook_events_apply_received.module_path]
