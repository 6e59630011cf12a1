"""The task queue where the order of effects is the point: real `db_worker` processes on PostgreSQL.

The email task is a row written by the payment's transaction (it commits or
rolls back with the order); a worker killed with SIGKILL in the middle of a
burst loses no confirmation (issue 9.5); three workers draining 1,000 emails
send each exactly once; with the Procfile's workers, a mail server taking
10 s per message never slows the webhook nor delays applying a payment.
"""

import os
import re
import signal
import time
from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from payments.tests.events import payment_intent_object, stripe_event
from shop.orders.emails import CONFIRMATION
from shop.orders.models import Order, OrderEmail, OrderStatus
from shop.orders.services import order_mark_paid
from shop.orders.tasks import order_email_send, order_emails_requeue
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only
from tests.tasks_worker import db_worker, finish, smtp_inbox, stop
from tools.devserver import procfile_processes


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def paid_orders(count: int) -> list[Order]:
    orders = OrderFactory.create_batch(count)
    for order in orders:
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
    return orders


@postgres_only
def test_the_email_task_commits_with_the_payment(database_tasks):
    order = OrderFactory()
    with transaction.atomic():
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
        # Inside the transaction, before any commit: the task is a row of it, not an on-commit hook.
        task = DBTaskResult.objects.get()
        assert (task.task_path, task.args_kwargs["args"]) == (
            order_email_send.module_path,
            [order.pk, "confirmation"],
        )
    assert DBTaskResult.objects.get().status == TaskResultStatus.READY


@postgres_only
def test_a_rolled_back_payment_leaves_no_task(database_tasks):
    order = OrderFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
        raise RuntimeError("the webhook failed after applying")
    assert not DBTaskResult.objects.exists()
    assert not OrderEmail.objects.exists()
    with smtp_inbox() as inbox:
        worker = db_worker(inbox, "--batch")
        finish(worker, timeout=60)
        assert inbox.messages == []


@postgres_only
def test_a_worker_sends_each_queued_email_and_records_it(database_tasks):
    orders = paid_orders(3)
    with smtp_inbox() as inbox:
        worker = db_worker(inbox, "--batch")
        finish(worker, timeout=60)
    assert sorted(inbox.recipients()) == sorted(o.email for o in orders)
    assert sorted(inbox.subjects()) == sorted(f"Your Stripe Press order {o.number}" for o in orders)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    assert OrderEmail.objects.filter(sent_at__isnull=True).count() == 0


def procfile_worker_queues() -> list[str]:
    """The queues of each `db_worker` process of the Procfile."""
    commands = procfile_processes().values()
    return [re.search(r"--queue-name (\S+)", c).group(1) for c in commands if "manage.py db_worker" in c]


@postgres_only
def test_a_slow_mail_server_never_delays_a_payment_with_the_procfiles_workers(database_tasks, post_webhook):
    """A mail server taking 10 s per message: webhooks answer at once, payments are applied at once
    while a confirmation is still on its way, and the emails arrive later."""
    orders = OrderFactory.create_batch(2)
    queues = procfile_worker_queues()
    assert "webhooks" in queues  # payment events have a worker of their own
    with smtp_inbox(delay=10) as inbox:
        workers = [db_worker(inbox, queues=names) for names in queues]
        try:
            for number, order in enumerate(orders):
                event = stripe_event(
                    "payment_intent.succeeded", payment_intent_object(order), event_id=f"evt_slow_{number}"
                )
                started = time.monotonic()
                response = post_webhook(event)
                elapsed = time.monotonic() - started
                assert response.json()["outcome"] == "queued"  # a worker applies it, then mails
                assert elapsed < 1, f"webhook took {elapsed:.2f} s"
                wait_for(partial(is_paid, order), timeout=30, what=f"order {number} to be paid")
                if number == 0:  # its confirmation is being handed to the mail server, for 10 s
                    wait_for(partial(is_being_mailed, order), timeout=30, what="the first email")
            # The second payment was applied while the first email was still on its way.
            assert inbox.messages == []
            wait_for(lambda: len(inbox.messages) == 2, timeout=40, what="both slow emails")
        finally:
            for worker in workers:
                stop(worker)
    assert sorted(inbox.recipients()) == sorted(o.email for o in orders)


def is_paid(order: Order) -> bool:
    return Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def is_being_mailed(order: Order) -> bool:
    return OrderEmail.objects.filter(order=order, claimed_at__isnull=False, sent_at__isnull=True).exists()


@postgres_only
def test_killed_worker_loses_no_confirmation(database_tasks):
    """SIGKILL a worker mid-burst: every paid order still gets its confirmation (issue 9.5)."""
    orders = paid_orders(20)
    with smtp_inbox(delay=0.2) as inbox:
        worker = db_worker(inbox)
        wait_for(lambda: len(inbox.messages) >= 5, timeout=60, what="the burst to start")
        os.kill(worker.pid, signal.SIGKILL)
        stop(worker)
        sent_before_the_kill = len(inbox.messages)
        assert sent_before_the_kill < len(orders)
        # The task the worker was running stays claimed; the rest are still queued.
        lost = OrderEmail.objects.filter(claimed_at__isnull=False, sent_at__isnull=True)
        assert lost.count() <= 1

        # A new worker drains the queue.
        worker = db_worker(inbox, "--batch")
        finish(worker, timeout=60)
        # The lease passes (10 minutes, here by moving the clock of the lost one back) and
        # sync_payments' retry pass queues it again; a worker sends it.
        long_ago = timezone.now() - timedelta(minutes=11)
        OrderEmail.objects.filter(sent_at__isnull=True).update(queued_at=long_ago, claimed_at=long_ago)
        order_emails_requeue()
        worker = db_worker(inbox, "--batch")
        finish(worker, timeout=60)

    received = Counter(inbox.recipients())
    assert set(received) == {o.email for o in orders}  # everyone got theirs
    # At most one more copy, for an email the mail server took just before the kill.
    assert sum(received.values()) <= len(orders) + 1
    assert not OrderEmail.objects.filter(sent_at__isnull=True).exists()
    assert Order.objects.filter(status=OrderStatus.PAID, confirmation_sent_at__isnull=True).count() == 0


@postgres_only
def test_three_workers_send_a_thousand_emails_exactly_once(database_tasks):
    orders = Order.objects.bulk_create(
        OrderFactory.build_batch(1000, status=OrderStatus.PAID, paid_at=timezone.now())
    )
    with transaction.atomic():
        OrderEmail.objects.bulk_create(
            OrderEmail(order=order, kind=CONFIRMATION, queued_at=timezone.now()) for order in orders
        )
        for order in orders:
            order_email_send.enqueue(order.pk, CONFIRMATION)
    with smtp_inbox() as inbox:
        started = time.monotonic()
        workers = [db_worker(inbox, "--batch") for _ in range(3)]
        try:
            for worker in workers:
                finish(worker, timeout=150)
        finally:
            for worker in workers:
                stop(worker)
        elapsed = time.monotonic() - started

    received = Counter(inbox.recipients())
    assert len(received) == 1000 and set(received.values()) == {1}, "each email exactly once"
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 1000
    workers_used = Counter(
        w for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) for w in ids
    )
    assert len(workers_used) >= 2, f"workers ran side by side: {workers_used}"
    assert elapsed < 150  # about 10 s on an idle 2-core machine
