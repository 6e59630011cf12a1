"""PostgreSQL, database tasks backend: the webhook stores an event and queues its task in ONE round trip.

The events are their own queue: the task queued is
`webhook_events_apply_received` (no arguments: it applies every RECEIVED
event), written only when none is waiting for a worker already, and the row
is the one `.enqueue()` writes, so a real `db_worker` runs it. A handled
event's redelivery queues nothing; the event and its task commit together or
not at all. (SQLite and the immediate backend keep one task per event, two
steps: test_webhook.py covers them.) The advisory lock that keeps a task from
stopping before a webhook in flight has committed: test_webhook_received_queue.py.
"""

import json

import pytest
from django.db import connection, transaction
from django_tasks import TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks_db.models import DBTaskResult

from payments.models import WebhookEvent
from payments.services import webhooks
from payments.tasks import WEBHOOK_APPLY_PRIORITY, webhook_event_apply, webhook_events_apply_received
from payments.tests.events import charge_refunded_event, payment_intent_event, stripe_event
from shop import task_rows
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only
from tests.tasks_worker import db_worker, finish, smtp_inbox

Outcome = WebhookEvent.Outcome


@pytest.fixture
def order():
    return OrderFactory(total_amount=2300, currency="usd")


def apply_tasks(path: str = webhook_events_apply_received.module_path) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path).order_by("enqueued_at"))


@postgres_only
def test_a_new_event_and_its_task_are_one_query_and_a_real_worker_applies_it(
    database_tasks, post_webhook, order, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = post_webhook(payment_intent_event("payment_intent.succeeded", order))

    assert response.json() == {"received": True, "outcome": "queued"}
    event = WebhookEvent.objects.get()
    assert event.outcome == Outcome.RECEIVED
    (task,) = apply_tasks()
    assert (task.status, task.args_kwargs, task.priority) == (
        TaskResultStatus.READY,
        {"args": [], "kwargs": {}},
        WEBHOOK_APPLY_PRIORITY,
    )

    with smtp_inbox() as inbox:
        finish(db_worker(inbox, "--batch"), timeout=120)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    event.refresh_from_db()
    assert (event.outcome, event.attempts) == (Outcome.PROCESSED, 1)
    task.refresh_from_db()
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, 1)
    assert inbox.recipients() == [order.email]


@postgres_only
def test_events_arriving_while_the_task_waits_share_it_and_are_applied_oldest_first(
    database_tasks, post_webhook
):
    orders = OrderFactory.create_batch(3, total_amount=2300, currency="usd")
    for order in orders:
        assert post_webhook(payment_intent_event("payment_intent.succeeded", order)).json()["outcome"] == (
            "queued"
        )
    (task,) = apply_tasks()  # the first event's; the next two found it waiting

    with smtp_inbox() as inbox:
        finish(db_worker(inbox, "--batch"), timeout=120)

    task.refresh_from_db()
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, 3)
    events = list(WebhookEvent.objects.order_by("processed_at"))
    assert [e.outcome for e in events] == [Outcome.PROCESSED] * 3
    assert [e.order_id for e in events] == [o.pk for o in orders]
    assert sorted(inbox.recipients()) == sorted(o.email for o in orders)


@postgres_only
def test_once_the_task_is_claimed_the_next_event_queues_another(database_tasks, post_webhook):
    first, second = OrderFactory.create_batch(2, total_amount=2300, currency="usd")
    post_webhook(payment_intent_event("payment_intent.succeeded", first))
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)  # a worker claimed it

    post_webhook(payment_intent_event("payment_intent.succeeded", second))

    assert [t.status for t in apply_tasks()] == [TaskResultStatus.RUNNING, TaskResultStatus.READY]


@postgres_only
def test_the_task_row_is_the_one_enqueue_writes(database_tasks, post_webhook, order):
    post_webhook(payment_intent_event("payment_intent.succeeded", order))
    (written,) = apply_tasks()
    by_the_statement = DBTaskResult.objects.filter(pk=written.pk).values().get()
    written.delete()  # one such task may wait at a time
    by_enqueue = DBTaskResult.objects.filter(pk=webhook_events_apply_received.enqueue().id).values().get()

    assert by_the_statement.pop("id") != by_enqueue.pop("id")
    assert by_the_statement.pop("enqueued_at") <= by_enqueue.pop("enqueued_at")
    assert by_the_statement == by_enqueue


@postgres_only
@pytest.mark.parametrize(
    "stored_outcome, answer, outcome_after",
    [
        (Outcome.PROCESSED, "duplicate", Outcome.PROCESSED),  # handled: nothing queued
        (Outcome.IGNORED, "duplicate", Outcome.IGNORED),
        (Outcome.RECEIVED, "queued", Outcome.RECEIVED),  # not applied yet: queued again
        (Outcome.FAILED, "queued", Outcome.RECEIVED),  # Stripe's resend of a failed one: back in the queue
    ],
)
def test_a_redelivery_is_one_query_and_queues_again_only_what_is_not_handled(
    database_tasks, post_webhook, order, django_assert_num_queries, stored_outcome, answer, outcome_after
):
    event = payment_intent_event("payment_intent.succeeded", order)
    post_webhook(event)
    WebhookEvent.objects.update(outcome=stored_outcome)
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)  # the first delivery's task ran

    with django_assert_num_queries(1):
        response = post_webhook(event)

    assert response.json()["outcome"] == answer
    assert WebhookEvent.objects.get().outcome == outcome_after
    waiting = [t for t in apply_tasks() if t.status == TaskResultStatus.READY]
    assert len(waiting) == (answer == "queued")


@postgres_only
def test_each_queued_row_has_its_own_id_and_time(database_tasks, post_webhook):
    for order in OrderFactory.create_batch(2, total_amount=2300, currency="usd"):
        post_webhook(payment_intent_event("payment_intent.succeeded", order))
        DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)

    tasks = apply_tasks()
    assert len({t.pk for t in tasks}) == len({t.enqueued_at for t in tasks}) == 2


@postgres_only
def test_task_enqueued_is_sent_for_a_queued_task_only(database_tasks, post_webhook):
    sent = []

    def receiver(sender, task_result, **kwargs):
        sent.append(task_result)

    first, second = OrderFactory.create_batch(2, total_amount=2300, currency="usd")
    task_enqueued.connect(receiver)
    try:
        post_webhook(payment_intent_event("payment_intent.succeeded", first))
        post_webhook(payment_intent_event("payment_intent.succeeded", second))  # the task waits already
    finally:
        task_enqueued.disconnect(receiver)

    (result,) = sent
    (task,) = apply_tasks()
    assert (str(result.id), result.args, result.status) == (str(task.pk), [], TaskResultStatus.READY)
    assert result.enqueued_at == task.enqueued_at
    assert result.task.module_path == webhook_events_apply_received.module_path


@postgres_only
def test_the_event_is_not_stored_when_its_task_cannot_be(database_tasks, post_webhook, order, monkeypatch):
    """One transaction, one commit: a failing task insert takes the event's insert with it; Stripe retries."""

    class UnwritableTaskRow(task_rows.TaskRow):
        def __init__(self, task):
            super().__init__(task)
            self.params[1] = "not a time"  # enqueued_at: the task row's insert fails

    monkeypatch.setattr(webhooks, "TaskRow", UnwritableTaskRow)
    event = payment_intent_event("payment_intent.succeeded", order)

    assert post_webhook(event).status_code == 500
    assert not WebhookEvent.objects.exists()
    assert not apply_tasks()

    monkeypatch.undo()
    assert post_webhook(event).json()["outcome"] == "queued"  # the redelivery
    assert len(apply_tasks()) == 1


@postgres_only
def test_other_backends_keep_the_two_steps_on_postgresql(transactional_db, post_webhook, order):
    """The tests' immediate backend: stored, then applied in the request (its own statements)."""
    assert connection.vendor == "postgresql"
    response = post_webhook(payment_intent_event("payment_intent.succeeded", order))

    assert response.json()["outcome"] == "processed"
    assert not apply_tasks() and not apply_tasks(webhook_event_apply.module_path)


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def event_of_type(event_type: str, order) -> dict:
    if event_type.startswith("payment_intent."):
        return payment_intent_event(event_type, order)
    if event_type == "charge.refunded":
        return charge_refunded_event(order, amount_refunded=500)
    return stripe_event(event_type, {"id": "cus_test1", "object": "customer"})


@postgres_only
@pytest.mark.parametrize(
    "event_type, commit_waits_for_disk",
    [
        # sync_payments reads these PaymentIntents from Stripe again: a crash's loss is given back
        ("payment_intent.succeeded", False),
        ("payment_intent.payment_failed", False),
        ("payment_intent.processing", False),
        ("payment_intent.canceled", False),
        # a Dashboard refund is known through its event alone; a type the shop does not use is kept as is
        ("charge.refunded", True),
        ("customer.created", True),
    ],
)
def test_only_events_sync_payments_finds_again_commit_without_waiting_for_the_disk(
    database_tasks, order, event_type, commit_waits_for_disk
):
    event = event_of_type(event_type, order)
    assert synchronous_commit() == "on"
    with transaction.atomic():  # to look at the statement's transaction before it commits
        webhooks._event_store_and_enqueue(webhooks.VerifiedEvent(event, json.dumps(event)))
        assert synchronous_commit() == ("on" if commit_waits_for_disk else "off")
    assert synchronous_commit() == "on"  # for that transaction only: the connection's next ones wait
    assert WebhookEvent.objects.get().stripe_event_id == event["id"]


@postgres_only
def test_an_event_acknowledged_without_the_disk_is_stored_and_applied_like_any_other(
    database_tasks, post_webhook, order
):
    """Only durability differs: visible to the worker at once, applied once."""
    response = post_webhook(payment_intent_event("payment_intent.succeeded", order))
    assert response.json()["outcome"] == "queued"
    assert synchronous_commit() == "on"  # the request's connection, after the statement's commit

    assert webhooks.stripe_events_apply_received() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert WebhookEvent.objects.get().outcome == Outcome.PROCESSED
