"""The RQ backend (TASKS_BACKEND=rq): the confirmation goes through Redis and a real RQ worker.

Redis is outside the database transaction, so the task is pushed on commit:
a rolled-back payment pushes nothing. Needs a Redis on 127.0.0.1:6379
(TEST_TASKS_REDIS_URL to use another); its own database number, emptied
before and after.
"""

import os

import django_rq
import pytest
import redis
from django.core import mail
from django.db import transaction
from rq import SimpleWorker

from shop.orders.models import OrderEmail
from shop.orders.services import order_mark_paid
from shop.orders.tests.factories import OrderFactory

REDIS_URL = os.environ.get("TEST_TASKS_REDIS_URL", "redis://127.0.0.1:6379/12")
RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@pytest.fixture
def rq_tasks(settings):
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    connection.flushdb()
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    settings.TASKS = RQ_TASKS
    yield django_rq.get_queue("default")
    connection.flushdb()


def run_rq_worker(queue) -> None:
    """A real RQ worker, in this process (SimpleWorker: no fork), until the queue is empty."""
    from django_tasks_rq import Job

    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)


def test_confirmation_through_rq(rq_tasks, transactional_db):
    order = OrderFactory()
    with transaction.atomic():
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
        assert rq_tasks.count == 0  # not before the payment is committed
    assert rq_tasks.count == 1

    run_rq_worker(rq_tasks)

    assert [m.to for m in mail.outbox] == [[order.email]]
    assert OrderEmail.objects.get(order=order).sent_at is not None
    assert rq_tasks.count == 0


def test_a_rolled_back_payment_pushes_nothing_to_redis(rq_tasks, transactional_db):
    order = OrderFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
        raise RuntimeError("the webhook failed after applying")
    assert rq_tasks.count == 0
    run_rq_worker(rq_tasks)
    assert mail.outbox == []
