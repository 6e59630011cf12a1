"""Background work about payments, on Django's Tasks API (the django-tasks backport)."""

from django_tasks import task

from shop.orders.tasks import EMAILS_QUEUE

# Its own queue and worker (Procfile): applying a payment never waits behind an email.
WEBHOOKS_QUEUE = "webhooks"


@task(queue_name=WEBHOOKS_QUEUE)
def webhook_event_apply(event_pk: int) -> str:
    """Apply a stored Stripe event to its order, once, and record the outcome (payments/services/webhooks.py).

    Enqueued by the webhook in the transaction that stores the event, by
    sync_payments for events whose task was lost or whose apply failed, and
    run at once by staff's replay. Fails (after recording FAILED on the
    event) when applying fails.
    """
    # Imported here: the webhook service enqueues this task, so it imports this module.
    from payments.services.webhooks import stripe_event_apply

    return stripe_event_apply(event_pk=event_pk)


@task(queue_name=EMAILS_QUEUE)
def dispute_staff_email_send(dispute_id: int) -> int:
    """Email staff about a new dispute, once; how many were sent to (payments/dispute_emails.py)."""
    from payments.dispute_emails import dispute_staff_email_deliver

    return dispute_staff_email_deliver(dispute_id=dispute_id)
