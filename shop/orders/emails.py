"""Emails to the shopper about an order: what each kind says, and sending one exactly once.

Each email is an `OrderEmail` row written in the transaction of the change
that causes it, with the task that sends it (`order_email_queue` in
shop/orders/tasks.py). The task calls `order_email_deliver`:

1. claim: one conditional UPDATE sets `claimed_at` on an unsent email whose
   claim is free or older than `CLAIM_LEASE`, so two runs never send at once;
2. send through `EMAIL_URL` (`EMAIL_TIMEOUT` bounds it, well under the lease);
3. record: `sent_at` set (and the claim kept).

A failing mail server releases the claim, records the error on the row and
raises, so the task shows as failed in the admin (with a Retry action). A
worker killed between 1 and 3 leaves a stale claim: `order_emails_requeue`
(run by `sync_payments` on its schedule) enqueues a new task once the lease
has passed. The trade-off: a worker killed after the mail server accepted
the message but before step 3 committed sends one more copy on the retry.
We prefer that rare duplicate to an order confirmation that never comes.

Adding a kind: one line in EMAIL_KINDS, and templates
`emails/order_<kind>.txt` and `.html` (context: order, items, amount_charged,
order_url: the shopper's order page, absolute, with its access key).

A kind sent once per order is its name ("confirmation", "shipped"). A kind
sent once per event carries the event after a colon: "refunded:<from>-<to>"
is the refund that took the order's amount refunded from <from> to <to>
(minor units; the total only grows, so each refund has its own), and its
templates get refund_amount and refund_total.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from shop.orders.access import order_page_url
from shop.orders.models import Order, OrderEmail

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailKind:
    subject: str  # formatted with the order number


# One line per kind; templates: emails/order_<kind>.txt and emails/order_<kind>.html.
EMAIL_KINDS: dict[str, EmailKind] = {
    "confirmation": EmailKind(subject="Your Stripe Press order {number}"),
    "shipped": EmailKind(subject="Your Stripe Press order {number} has shipped"),
    "refunded": EmailKind(subject="A refund on your Stripe Press order {number}"),
}
CONFIRMATION = "confirmation"
SHIPPED = "shipped"
REFUNDED = "refunded"


def refunded_kind(*, from_total: int, to_total: int) -> str:
    """The kind of the email about the refund that took the order's refunded total from/to."""
    return f"{REFUNDED}:{from_total}-{to_total}"


def email_kind_base(kind: str) -> str:
    """The kind's name without its event ("refunded:0-500" -> "refunded")."""
    return kind.split(":", 1)[0]


def _kind_context(kind: str) -> dict:
    base, _, event = kind.partition(":")
    if base != REFUNDED:
        return {}
    from_total, to_total = (int(part) for part in event.split("-"))
    return {"refund_amount": to_total - from_total, "refund_total": to_total}


# A claim older than this was lost (its worker died): the email may be sent again.
# Far longer than EMAIL_TIMEOUT, so a slow send is never doubled by a retry.
CLAIM_LEASE = timedelta(minutes=10)
# An email queued this long ago and still unsent gets a new task from the retry pass.
REQUEUE_AFTER = timedelta(minutes=10)
# An email about an order from longer ago than this is no longer useful.
RESEND_MAX_AGE = timedelta(days=3)


class OrderEmailNotSent(Exception):
    """The mail server refused or failed: the email stays unsent and will be retried."""


def order_email_message(*, order: Order, kind: str) -> EmailMultiAlternatives:
    """The email of `kind` about `order` (text with an HTML alternative)."""
    base = email_kind_base(kind)
    context = {
        "order": order,
        "items": list(order.items.all()),
        "amount_charged": order.amount_charged,
        "order_url": order_page_url(number=order.number),
        **_kind_context(kind),
    }
    text = render_to_string(f"emails/order_{base}.txt", context)
    html = render_to_string(f"emails/order_{base}.html", context)
    message = EmailMultiAlternatives(
        subject=EMAIL_KINDS[base].subject.format(number=order.number),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def order_email_record(*, order: Order, kind: str) -> OrderEmail | None:
    """Record that `order` owes the shopper an email of `kind`; None if it was recorded before.

    Call inside the transaction of the change that causes it, with the order
    row locked (the caller then enqueues the task): it commits or rolls back
    with that change. The unique (order, kind) constraint backs the check.
    """
    if email_kind_base(kind) not in EMAIL_KINDS:
        raise ValueError(f"Unknown order email kind {kind!r}.")
    if OrderEmail.objects.filter(order=order, kind=kind).exists():
        return None
    return OrderEmail.objects.create(order=order, kind=kind, queued_at=timezone.now())


def _order_email_claim(*, order_id: int, kind: str) -> OrderEmail | None:
    now = timezone.now()
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    claimed = OrderEmail.objects.filter(claimable, order_id=order_id, kind=kind, sent_at__isnull=True).update(
        claimed_at=now
    )
    if not claimed:
        return None
    return OrderEmail.objects.select_related("order").get(order_id=order_id, kind=kind)


def order_email_deliver(*, order_id: int, kind: str) -> bool:
    """Send the order's email of `kind` unless it was sent or is being sent; True if sent now.

    Raises OrderEmailNotSent (after releasing the claim and recording the
    error) when the mail server fails, so the task is recorded as failed.
    """
    email = _order_email_claim(order_id=order_id, kind=kind)
    if email is None:
        return False
    order = email.order
    try:
        order_email_message(order=order, kind=kind).send()
    except Exception as exc:  # SMTP errors, DNS, timeouts, template bugs: the order is unaffected
        error = f"{type(exc).__name__}: {exc}"
        OrderEmail.objects.filter(pk=email.pk, claimed_at=email.claimed_at).update(
            claimed_at=None, attempts=email.attempts + 1, last_error=error[:2000]
        )
        logger.error(
            "order_email_failed",
            extra={"order": order.number, "kind": kind, "error": type(exc).__name__, "detail": str(exc)},
        )
        raise OrderEmailNotSent(f"{kind} email for order {order.number}: {error}") from exc
    sent_at = timezone.now()
    with transaction.atomic():  # both or neither: a worker killed in between leaves no half-record
        OrderEmail.objects.filter(pk=email.pk).update(
            sent_at=sent_at, attempts=email.attempts + 1, last_error=""
        )
        if kind == CONFIRMATION:  # the order page's summary of its confirmation
            Order.objects.filter(pk=order.pk).update(confirmation_sent_at=sent_at)
    logger.info(
        "order_email_sent",
        extra={"order": order.number, "kind": kind, "payment_intent": order.payment_intent_id},
    )
    return True


def order_emails_lost(*, max_age: timedelta = RESEND_MAX_AGE) -> list[OrderEmail]:
    """Unsent emails whose task was lost or failed: queued a while ago, no live claim."""
    now = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    return list(
        OrderEmail.objects.filter(
            free, sent_at__isnull=True, queued_at__lt=now - REQUEUE_AFTER, created_at__gte=now - max_age
        ).order_by("pk")
    )
