"""PostgreSQL: `webhook_events_apply_received`, the task that applies the events still RECEIVED.

A webhook queues it only when none is waiting for a worker (test_webhook_one_statement.py),
so what must hold is that a task never stops while an event is on its way:
"waiting" is asked of a unique index, which waits for a worker's claim in
flight, and an advisory lock stands between the webhooks (shared, before
they look) and a task deciding it is done (exclusive). The tests hold one
side on a connection of their own and watch the other wait in pg_locks.
"""

import json
import threading

import psycopg
import pytest
from django.db import IntegrityError, connection, connections, transaction
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


def lock_waiters(locktype: str, mode: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = %s AND NOT granted AND mode = %s",
            [locktype, mode],
        )
        return cursor.fetchone()[0]


def advisory_lock_waiters(mode: str) -> int:
    return lock_waiters("advisory", mode)


def received_event_stored_by(conn, order) -> None:
    """A webhook in flight: its statement sent (the shared lock, its event, maybe a task), not committed."""
    event = payment_intent_event("payment_intent.succeeded", order)
    verified = webhooks.VerifiedEvent(event, json.dumps(event))
    task_row = webhooks.TaskRow(webhook_events_apply_received)
    with psycopg.Cursor(conn) as cursor:
        cursor.execute(
            webhooks._store_and_enqueue_sql(), webhooks._store_and_enqueue_params(verified, task_row)
        )


def task_claimed_by(conn, task: DBTaskResult) -> None:
    """A worker's claim in flight: the task's row RUNNING, not committed."""
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DBTaskResult._meta.db_table} SET status = %s WHERE id = %s",
            [TaskResultStatus.RUNNING, task.pk],
        )


@postgres_only
def test_a_task_with_nothing_left_waits_for_the_webhook_in_flight_and_applies_its_event(
    database_tasks, other_connection
):
    order = OrderFactory(total_amount=2300, currency="usd")
    received_event_stored_by(other_connection, order)

    task = InThread(webhooks.stripe_events_apply_received)
    task.thread.join(timeout=0.5)
    assert task.thread.is_alive()  # it has not stopped with the event on its way...
    assert advisory_lock_waiters("ExclusiveLock") == 0  # ...and waits in no lock queue a webhook would join
    other_connection.commit()

    assert task.join() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert WebhookEvent.objects.get().outcome == Outcome.PROCESSED


@postgres_only
def test_a_task_looking_whether_webhooks_are_in_flight_holds_no_webhook_up(database_tasks):
    """The look is one statement of its own transaction: the lock is free again right after it."""
    assert webhooks._no_webhook_storing_events() is True
    assert advisory_lock_waiters("ShareLock") == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
            [webhooks.RECEIVED_EVENTS_LOCK & 0xFFFFFFFF],
        )
        assert cursor.fetchone()[0] == 0


def waiting_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status=TaskResultStatus.READY))


@postgres_only
def test_a_webhook_waits_for_a_task_deciding_it_is_done_before_it_looks_for_a_waiting_one(
    database_tasks, post_webhook, other_connection
):
    post_webhook(payment_intent_event("payment_intent.succeeded", OrderFactory()))
    (task,) = waiting_tasks()
    task_claimed_by(other_connection, task)  # claimed, ran, found nothing left, and now stops:
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [webhooks.RECEIVED_EVENTS_LOCK])

    delivery = InThread(webhook_delivery(payment_intent_event("payment_intent.succeeded", OrderFactory())))
    assert until(lambda: advisory_lock_waiters("ShareLock") == 1)
    assert WebhookEvent.objects.count() == 1  # the second event is not committed
    other_connection.commit()

    assert delivery.join() == "queued"
    (successor,) = waiting_tasks()  # it looked once the task had stopped, and queued another
    assert successor.pk != task.pk


@postgres_only
def test_a_webhook_waits_for_a_claim_in_flight_and_then_queues_another_task(
    database_tasks, post_webhook, other_connection
):
    """The statement's snapshot would still show the claimed task waiting; the unique index does not."""
    post_webhook(payment_intent_event("payment_intent.succeeded", OrderFactory()))
    (task,) = waiting_tasks()
    task_claimed_by(other_connection, task)

    delivery = InThread(webhook_delivery(payment_intent_event("payment_intent.succeeded", OrderFactory())))
    assert until(lambda: lock_waiters("transactionid", "ShareLock") == 1)  # waits for the claim's commit
    other_connection.commit()

    assert delivery.join() == "queued"
    (successor,) = waiting_tasks()
    assert successor.pk != task.pk


@postgres_only
def test_one_task_waits_at_most_and_the_others_are_not_written(database_tasks, post_webhook):
    orders = OrderFactory.create_batch(3, total_amount=2300, currency="usd")
    for order in orders:
        post_webhook(payment_intent_event("payment_intent.succeeded", order))

    assert len(waiting_tasks()) == 1
    assert webhooks.webhook_events_resume() is False  # one waits: none more
    # The index refuses a second waiting row, however written.
    with pytest.raises(IntegrityError), transaction.atomic():
        webhook_events_apply_received.enqueue()
    assert len(waiting_tasks()) == 1


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
