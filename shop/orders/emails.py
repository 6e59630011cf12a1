"""The order confirmation email: sent once per order, when it becomes paid.

`order_mark_paid` schedules `order_confirmation_send` with
`transaction.on_commit`, so whichever of webhook, success page or
reconciliation pays the order first triggers it, and a rolled-back
transaction sends nothing.

Exactly once: before sending, a conditional UPDATE claims the order
(`confirmation_sent_at` set WHERE it is NULL). Only one process can win that
claim, so two concurrent deliveries never both send.

When the mail server fails, the claim is released again (and the failure
logged with the order number): the order stays paid, and the next thing that
sees it paid sends it (a redelivered webhook, the shopper reloading the
success page: `order_mark_paid` schedules a send for a paid order whose
confirmation is missing), or `order_confirmations_resend`, for orders paid in
the last few days (call it from the reconciliation job). A process killed
between the claim and the hand-off to the mail server leaves the order marked
as sent without an email: we prefer that rare miss to ever emailing a shopper
twice.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from shop.orders.models import Order, OrderStatus

logger = logging.getLogger(__name__)

# A confirmation for an order paid longer ago than this is no longer useful.
RESEND_MAX_AGE = timedelta(days=3)


def order_confirmation_message(*, order: Order) -> EmailMultiAlternatives:
    """The confirmation email for `order` (text with an HTML alternative)."""
    items = list(order.items.all())
    context = {
        "order": order,
        "items": items,
        "amount_charged": order.amount_charged,
    }
    subject = f"Your Stripe Press order {order.number}"
    text = render_to_string("emails/order_confirmation.txt", context)
    html = render_to_string("emails/order_confirmation.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[order.email]
    )
    message.attach_alternative(html, "text/html")
    return message


def _confirmation_claim(*, order_id: int) -> datetime | None:
    """Mark a paid order's confirmation as sent; None if it was already claimed."""
    now = timezone.now()
    claimed = Order.objects.filter(
        pk=order_id, status=OrderStatus.PAID, confirmation_sent_at__isnull=True
    ).update(confirmation_sent_at=now)
    return now if claimed else None


def order_confirmation_send(*, order_id: int) -> bool:
    """Email the shopper their confirmation unless it was sent already.

    Never raises: a failing mail server is logged and the claim released so a
    later `order_confirmations_resend` can try again. Returns True if sent.
    """
    claimed_at = _confirmation_claim(order_id=order_id)
    if claimed_at is None:
        return False
    order = Order.objects.get(pk=order_id)
    try:
        order_confirmation_message(order=order).send()
    except Exception as exc:  # SMTP errors, DNS, timeouts, template bugs: the order stays paid
        Order.objects.filter(pk=order_id, confirmation_sent_at=claimed_at).update(confirmation_sent_at=None)
        logger.error(
            "order_confirmation_failed",
            extra={"order": order.number, "error": type(exc).__name__, "detail": str(exc)},
        )
        return False
    logger.info(
        "order_confirmation_sent", extra={"order": order.number, "payment_intent": order.payment_intent_id}
    )
    return True


def order_confirmations_resend(*, max_age: timedelta = RESEND_MAX_AGE) -> int:
    """Send the confirmations that failed (or were never sent) for recently paid orders.

    Safe to run at any time, concurrently with webhooks: each order is
    claimed before sending. Returns how many emails went out.
    """
    since = timezone.now() - max_age
    order_ids = Order.objects.filter(
        status=OrderStatus.PAID, confirmation_sent_at__isnull=True, paid_at__gte=since
    ).values_list("pk", flat=True)
    return sum(order_confirmation_send(order_id=order_id) for order_id in list(order_ids))
