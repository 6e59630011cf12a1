"""The RQ backend (TASKS_BACKEND=rq): webhook events and emails go through Redis and real RQ workers.

Redis is outside the database transaction, so a task is pushed on commit: a
rolled-back payment pushes nothing. Each task lands on its own queue
("webhooks", "emails"), so each has its own worker. Needs a Redis on
127.0.0.1:6379 (TEST_TASKS_REDIS_URL to use another); its own database
number, emptied before and after.
"""

import os

import django_rq
import pytest
import redis
from django.conf import settings as django_settings
from django.core import mail
from django.db import transaction
from rq import SimpleWorker

from payments.models import WebhookEvent
from payments.tests.events import payment_intent_event
from shop.orders.models import OrderEmail, OrderStatus
from shop.orders.services import order_mark_paid
from shop.orders.tests.factories import OrderFactory

REDIS_URL = os.environ.get("TEST_TASKS_REDIS_URL", "redis://127.0.0.1:6379/12")
RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": django_settings.TASK_QUEUES}}


@pytest.fixture
def rq_tasks(settings):
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    connection.flushdb()
    settings.RQ_QUEUES = {name: {"URL": REDIS_URL} for name in django_settings.TASK_QUEUES}
    settings.TASKS = RQ_TASKS
    yield {name: django_rq.get_queue(name) for name in django_settings.TASK_QUEUES}
    connection.flushdb()


def run_rq_worker(queue) -> None:
    """A real RQ worker, in this process (SimpleWorker: no fork), until the queue is empty."""
    from django_tasks_rq import Job

    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)


def test_confirmation_through_rq(rq_tasks, transactional_db):
    emails = rq_tasks["emails"]
    order = OrderFactory()
    with transaction.atomic():
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
        assert emails.count == 0  # not before the payment is committed
    assert emails.count == 1

    run_rq_worker(emails)

    assert [m.to for m in mail.outbox] == [[order.email]]
    assert OrderEmail.objects.get(order=order).sent_at is not None
    assert emails.count == 0


def test_a_rolled_back_payment_pushes_nothing_to_redis(rq_tasks, transactional_db):
    order = OrderFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
        raise RuntimeError("the webhook failed after applying")
    assert [queue.count for queue in rq_tasks.values()] == [0] * len(rq_tasks)
    run_rq_worker(rq_tasks["emails"])
    assert mail.outbox == []


def test_a_webhook_event_and_its_email_each_on_their_own_queue(rq_tasks, transactional_db, post_webhook):
    order = OrderFactory()

    assert post_webhook(payment_intent_event("payment_intent.succeeded", order)).json()["outcome"] == "queued"

    assert (rq_tasks["webhooks"].count, rq_tasks["emails"].count) == (1, 0)  # pushed once committed
    run_rq_worker(rq_tasks["webhooks"])  # the webhooks' worker: applies it, sends nothing
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED
    assert (rq_tasks["webhooks"].count, rq_tasks["emails"].count, mail.outbox) == (0, 1, [])
    run_rq_worker(rq_tasks["emails"])  # the emails' worker
    assert [m.to for m in mail.outbox] == [[order.email]]
