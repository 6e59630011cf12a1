"""PostgreSQL, database tasks backend: the webhook stores an event and queues its task in ONE statement.

The task's row is the one `webhook_event_apply.enqueue(event_pk)` writes, so
a real `db_worker` runs it; a handled event's redelivery queues nothing; the
event and its task commit together or not at all. (SQLite and the immediate
backend keep the two steps: test_webhook.py covers them.)
"""

import pytest
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks_db.models import DBTaskResult

from payments.models import WebhookEvent
from payments.services import webhooks
from payments.tasks import webhook_event_apply
from payments.tests.events import payment_intent_event
from shop import task_rows
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only
from tests.tasks_worker import DATABASE_TASKS, db_worker, finish, smtp_inbox

Outcome = WebhookEvent.Outcome


@pytest.fixture
def database_tasks(settings, transactional_db):
    """Production's setup: the database backend, no test transaction around the request."""
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def order():
    return OrderFactory(total_amount=2300, currency="usd")


def webhook_tasks() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(task_path=webhook_event_apply.module_path).order_by("enqueued_at")
    )


@postgres_only
def test_a_new_event_and_its_task_are_one_query_and_a_real_worker_applies_it(
    database_tasks, post_webhook, order, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = post_webhook(payment_intent_event("payment_intent.succeeded", order))

    assert response.json() == {"received": True, "outcome": "queued"}
    event = WebhookEvent.objects.get()
    assert event.outcome == Outcome.RECEIVED
    (task,) = webhook_tasks()
    assert (task.status, task.args_kwargs) == (TaskResultStatus.READY, {"args": [event.pk], "kwargs": {}})

    with smtp_inbox() as inbox:
        finish(db_worker(inbox, "--batch"), timeout=120)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    event.refresh_from_db()
    assert (event.outcome, event.attempts) == (Outcome.PROCESSED, 1)
    task.refresh_from_db()
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, Outcome.PROCESSED)
    assert inbox.recipients() == [order.email]


@postgres_only
def test_the_task_row_is_the_one_enqueue_writes(database_tasks, post_webhook, order):
    post_webhook(payment_intent_event("payment_intent.succeeded", order))
    event_pk = WebhookEvent.objects.get().pk
    webhook_event_apply.enqueue(event_pk)  # the ORM's row, for comparison

    by_the_statement, by_enqueue = (
        DBTaskResult.objects.filter(pk=task.pk).values().get() for task in webhook_tasks()
    )

    assert by_the_statement.pop("id") != by_enqueue.pop("id")
    assert by_the_statement.pop("enqueued_at") <= by_enqueue.pop("enqueued_at")
    assert by_the_statement == by_enqueue


@postgres_only
@pytest.mark.parametrize(
    "stored_outcome, answer, tasks_after",
    [
        (Outcome.PROCESSED, "duplicate", 1),  # handled: the first delivery's task only
        (Outcome.IGNORED, "duplicate", 1),
        (Outcome.RECEIVED, "queued", 2),  # not handled yet: queued again
        (Outcome.FAILED, "queued", 2),
    ],
)
def test_a_redelivery_is_one_query_and_queues_again_only_what_is_not_handled(
    database_tasks, post_webhook, order, django_assert_num_queries, stored_outcome, answer, tasks_after
):
    event = payment_intent_event("payment_intent.succeeded", order)
    post_webhook(event)
    WebhookEvent.objects.update(outcome=stored_outcome)

    with django_assert_num_queries(1):
        response = post_webhook(event)

    assert response.json()["outcome"] == answer
    event_pk = WebhookEvent.objects.get().pk
    tasks = webhook_tasks()
    assert [t.args_kwargs["args"] for t in tasks] == [[event_pk]] * tasks_after
    # Each row its own id and time (the rest is the per-process template, shop/task_rows.py).
    assert len({t.pk for t in tasks}) == len({t.enqueued_at for t in tasks}) == tasks_after


@postgres_only
def test_task_enqueued_is_sent_for_a_queued_task_only(database_tasks, post_webhook, order):
    sent = []

    def receiver(sender, task_result, **kwargs):
        sent.append(task_result)

    task_enqueued.connect(receiver)
    try:
        event = payment_intent_event("payment_intent.succeeded", order)
        post_webhook(event)
        WebhookEvent.objects.update(outcome=Outcome.PROCESSED)
        post_webhook(event)  # a duplicate: nothing queued, nothing sent
    finally:
        task_enqueued.disconnect(receiver)

    (result,) = sent
    (task,) = webhook_tasks()
    assert (str(result.id), result.args, result.status) == (
        str(task.pk),
        [WebhookEvent.objects.get().pk],
        TaskResultStatus.READY,
    )
    assert result.enqueued_at == task.enqueued_at
    assert result.task.module_path == webhook_event_apply.module_path


@postgres_only
def test_the_event_is_not_stored_when_its_task_cannot_be(database_tasks, post_webhook, order, monkeypatch):
    """One statement, one commit: a failing task insert takes the event's insert with it; Stripe retries."""
    taken = webhook_event_apply.enqueue(0).id  # a task row's id, which the next row then reuses

    class ClashingTaskRow(task_rows.TaskRow):
        def __init__(self, task):
            super().__init__(task)
            self.params[0] = taken  # breaks the table's primary key

    monkeypatch.setattr(webhooks, "TaskRow", ClashingTaskRow)
    event = payment_intent_event("payment_intent.succeeded", order)

    assert post_webhook(event).status_code == 500
    assert not WebhookEvent.objects.exists()
    assert len(webhook_tasks()) == 1  # the one enqueued above

    monkeypatch.undo()
    assert post_webhook(event).json()["outcome"] == "queued"  # the redelivery
    assert len(webhook_tasks()) == 2


@postgres_only
def test_other_backends_keep_the_two_steps_on_postgresql(transactional_db, post_webhook, order):
    """The tests' immediate backend: stored, then applied in the request (its own statements)."""
    assert connection.vendor == "postgresql"
    response = post_webhook(payment_intent_event("payment_intent.succeeded", order))

    assert response.json()["outcome"] == "processed"
    assert not webhook_tasks()
