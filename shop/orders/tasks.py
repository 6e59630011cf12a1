"""Background work about orders, on Django's Tasks API (the django-tasks backport).

`order_email_queue` is called inside the transaction of the change that
causes the email (e.g. `order_mark_paid`). With the database backend (the
default) the task is a row in the same database, written by that
transaction: it commits or rolls back with the order, and a worker
(`manage.py db_worker`) picks it up once committed. With a backend outside
the database (RQ on Redis) the task is enqueued on commit instead (so a
worker never sees an order that is not there yet, nor one rolled back); the
`OrderEmail` row still commits with the change, so an enqueue lost between
commit and Redis is caught by `order_emails_requeue`.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db import DatabaseBackend

from shop.orders.emails import order_email_deliver, order_email_record, order_emails_lost
from shop.orders.models import BackgroundTask, Order, OrderEmail

logger = logging.getLogger(__name__)


@task()
def order_email_send(order_id: int, kind: str) -> bool:
    """Send one email about an order, at most once (see shop/orders/emails.py)."""
    return order_email_deliver(order_id=order_id, kind=kind)


def _enqueue(email: OrderEmail) -> None:
    backend = order_email_send.get_backend()
    send = order_email_send.enqueue
    if isinstance(backend, (DatabaseBackend, ImmediateBackend)):
        send(email.order_id, email.kind)  # in the caller's transaction
    else:
        transaction.on_commit(lambda: send(email.order_id, email.kind), robust=True)


def order_email_queue(*, order: Order, kind: str) -> bool:
    """Owe the shopper an email of `kind` about `order`, sent in the background; once per kind.

    Call inside the transaction of the change that causes it. Returns False
    (doing nothing) when that email was queued before.
    """
    email = order_email_record(order=order, kind=kind)
    if email is None:
        return False
    _enqueue(email)
    return True


def order_emails_requeue() -> int:
    """Enqueue a new task for every recent email still unsent whose task was lost or failed.

    Run periodically (sync_payments). An email whose worker died after
    claiming it is taken again once its claim is stale. Returns how many.
    """
    emails = order_emails_lost()
    for email in emails:
        with transaction.atomic():
            OrderEmail.objects.filter(pk=email.pk).update(queued_at=timezone.now())
            _enqueue(email)
        logger.info("order_email_requeued", extra={"order_id": email.order_id, "kind": email.kind})
    return len(emails)


def background_tasks_retry(*, task_ids: list) -> int:
    """Put failed tasks (database backend) back in the queue as they were; returns how many.

    The same row runs again, so its attempts (one worker id per run) add up.
    """
    retried = BackgroundTask.objects.filter(pk__in=task_ids, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, finished_at=None, exception_class_path="", traceback=""
    )
    logger.info("background_tasks_retried", extra={"count": retried})
    return retried
