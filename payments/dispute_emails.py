"""The email to staff about a new dispute: who gets it, what it says, and sending it once.

Recipients: active staff users holding `payments.receive_dispute_emails`,
given to them or to one of their groups. Superusers get it only that way
too: it is a subscription each staff member opts in to, and one a superuser
holds implicitly could never be turned off.

Once: the task claims the dispute's `staff_emailed_at` with one conditional
UPDATE before sending, and clears it again if the mail server fails (the
task then fails; the background-task admin's Retry sends it). A worker
killed between the claim and the send loses the email; the dispute stays in
the admin and on the admin home's "Needs attention" panel.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from payments.models import Dispute
from payments.stripe_client import stripe_dashboard_dispute_url

logger = logging.getLogger(__name__)

RECEIVE_PERMISSION = "payments.receive_dispute_emails"


def dispute_email_recipients() -> list[str]:
    """The addresses of the active staff who asked for dispute emails (their permission or a group's)."""
    users = get_user_model().objects.with_perm(
        RECEIVE_PERMISSION,
        is_active=True,
        include_superusers=False,
        backend="django.contrib.auth.backends.ModelBackend",
    )
    return sorted({user.email for user in users.filter(is_staff=True) if user.email})


def dispute_staff_email_message(*, dispute: Dispute, recipients: list[str]) -> EmailMessage:
    context = {
        "dispute": dispute,
        "order": dispute.order,
        "admin_url": settings.SITE_URL + reverse("admin:payments_dispute_change", args=[dispute.pk]),
        "dashboard_url": stripe_dashboard_dispute_url(dispute.stripe_dispute_id),
    }
    about = f"order {dispute.order.number}" if dispute.order else "a payment matching no order"
    return EmailMessage(
        subject=f"Dispute opened: {dispute.amount_display} on {about}",
        body=render_to_string("emails/staff_dispute_opened.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )


def dispute_staff_email_deliver(*, dispute_id: int) -> int:
    """Send the email about a new dispute unless it was sent (or is being sent); to how many addresses."""
    claimed = Dispute.objects.filter(pk=dispute_id, staff_emailed_at__isnull=True).update(
        staff_emailed_at=timezone.now()
    )
    if not claimed:
        return 0
    dispute = Dispute.objects.select_related("order").get(pk=dispute_id)
    recipients = dispute_email_recipients()
    if not recipients:
        logger.warning("dispute_email_no_recipients", extra={"dispute": dispute.stripe_dispute_id})
        return 0
    try:
        dispute_staff_email_message(dispute=dispute, recipients=recipients).send()
    except Exception:  # SMTP errors, DNS, timeouts: released for the retry
        Dispute.objects.filter(pk=dispute_id).update(staff_emailed_at=None)
        logger.exception("dispute_email_failed", extra={"dispute": dispute.stripe_dispute_id})
        raise
    logger.info(
        "dispute_email_sent", extra={"dispute": dispute.stripe_dispute_id, "recipients": len(recipients)}
    )
    return len(recipients)
