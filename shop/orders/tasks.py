"""Background work about orders, on Django's Tasks API (the django-tasks backport).

`order_email_queue` is called inside the transaction of the change that
causes the email (e.g. `order_mark_paid`) and enqueues through
`core.tasks.task_enqueue`: with the database backend (the default) the task
commits or rolls back with the order; with RQ it is pushed on commit. The
`OrderEmail` row always commits with the change, so a push lost between the
commit and Redis is caught by `order_emails_requeue`.

`order_list_email_queue` ("Find my orders", shop/orders/order_list.py)
enqueues the email listing an address's orders, at most once per cooldown.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from core.tasks import task_enqueue
from shop.orders.emails import order_email_deliver, order_email_record, order_emails_lost
from shop.orders.models import Order, OrderEmail
from shop.orders.order_list import order_list_email_claim, order_list_email_deliver

logger = logging.getLogger(__name__)

# Its own queue and worker (Procfile): a slow mail server holds up only other emails.
EMAILS_QUEUE = "emails"


@task(queue_name=EMAILS_QUEUE)
def order_email_send(order_id: int, kind: str) -> bool:
    """Send one email about an order, at most once (see shop/orders/emails.py)."""
    return order_email_deliver(order_id=order_id, kind=kind)


def order_email_queue(*, order: Order, kind: str) -> bool:
    """Owe the shopper an email of `kind` about `order`, sent in the background; once per kind.

    Call inside the transaction of the change that causes it. Returns False
    (doing nothing) when that email was queued before.
    """
    email = order_email_record(order=order, kind=kind)
    if email is None:
        return False
    task_enqueue(order_email_send, email.order_id, email.kind)
    return True


@task(queue_name=EMAILS_QUEUE)
def order_list_email_send(email: str) -> bool:
    """Send `email` the list of its orders, if it placed any (see shop/orders/order_list.py)."""
    return order_list_email_deliver(email=email)


def order_list_email_queue(*, email: str) -> bool:
    """Owe `email` the list of its orders, sent in the background; False (nothing queued) within its cooldown.

    The same work whether or not the address placed orders: the lookup is the task's.
    """
    with transaction.atomic():
        if not order_list_email_claim(email=email):
            return False
        task_enqueue(order_list_email_send, email)
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
            task_enqueue(order_email_send, email.order_id, email.kind)
        logger.info("order_email_requeued", extra={"order_id": email.order_id, "kind": email.kind})
    return len(emails)
