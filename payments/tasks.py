"""Background work about payments, on Django's Tasks API (the django-tasks backport)."""

from django_tasks import task


@task()
def webhook_event_apply(event_pk: int) -> str:
    """Apply a stored Stripe event to its order, once, and record the outcome (payments/services/webhooks.py).

    Enqueued by the webhook once the event is stored (but see
    `webhook_events_apply_received`), and by sync_payments for events whose
    task was lost or whose apply failed, and staff's replay. Fails (after recording
    FAILED on the event) when applying fails.
    """
    # Imported here: the webhook service enqueues this task, so it imports this module.
    from payments.services.webhooks import stripe_event_apply

    return stripe_event_apply(event_pk=event_pk)


# Before the confirmation emails and other work: a paid order is marked paid first.
WEBHOOK_APPLY_PRIORITY = 10


@task(priority=WEBHOOK_APPLY_PRIORITY)
def webhook_events_apply_received() -> int:
    """Apply every stored event still RECEIVED, oldest first; how many (payments/services/webhooks.py).

    What the webhook queues on PostgreSQL with the database backend: one
    such task for as many events as arrive while it waits for a worker.
    """
    from payments.services.webhooks import stripe_events_apply_received

    return stripe_events_apply_received()


@task()
def dispute_staff_email_send(dispute_id: int) -> int:
    """Email staff about a new dispute, once; how many were sent to (payments/dispute_emails.py)."""
    from payments.dispute_emails import dispute_staff_email_deliver

    return dispute_staff_email_deliver(dispute_id=dispute_id)
