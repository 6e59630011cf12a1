"""Reads of refunds, disputes and webhook events (orders are read through shop.orders.selectors)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet, Sum

from payments.models import Dispute, Refund, RefundStatus, WebhookEvent
from shop.orders.models import Order, OrderStatus

# Refund statuses Stripe counts in a charge's amount_refunded.
COUNTED_STATUSES = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)
REFUNDABLE_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
# Refunds Stripe has not settled (or never answered about): reconciliation looks at them.
UNSETTLED_REFUND_STATUSES = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION)


@dataclass(frozen=True)
class RefundTotals:
    """An order's money, in minor units, as the refund rules see it."""

    charged: int  # what the shopper paid
    refunded: int  # what Stripe has agreed to give back (the order's amount_refunded)
    unconfirmed: int  # asked for, Stripe has not answered yet: held back all the same
    remaining: int  # what may still be refunded


def refund_amounts(*, order: Order) -> tuple[int, int]:
    """(confirmed, held): refunds Stripe has agreed to, and those plus requests not answered yet."""
    sums = order.refunds.aggregate(
        confirmed=Sum("amount", filter=Q(status__in=COUNTED_STATUSES, stripe_refund_id__isnull=False)),
        held=Sum("amount", filter=Q(status__in=COUNTED_STATUSES)),
    )
    return sums["confirmed"] or 0, sums["held"] or 0


def refund_totals(*, order: Order) -> RefundTotals:
    confirmed, held = refund_amounts(order=order)
    # Never more than the order's total: a larger amount received is Stripe's
    # word against ours, flagged for staff, not money to hand out.
    charged = min(order.amount_charged, order.total_amount)
    return RefundTotals(
        charged=charged,
        refunded=order.amount_refunded,
        unconfirmed=max(held - confirmed, 0),
        remaining=max(charged - max(order.amount_refunded, held), 0),
    )


def refund_remaining(*, order: Order) -> int:
    """What may still be refunded on `order`, in minor units."""
    return refund_totals(order=order).remaining


def order_is_refundable(*, order: Order) -> bool:
    """Whether the order is one staff may refund at all (paid through Stripe)."""
    return order.status in REFUNDABLE_ORDER_STATUSES and bool(order.payment_intent_id)


def refunds_count(*, order: Order) -> int:
    return order.refunds.count()


def refund_list_for_order(*, order: Order) -> QuerySet[Refund]:
    return order.refunds.select_related("created_by").order_by("created_at", "id")


def refund_get_for_order(*, order: Order, refund_id: str | int) -> Refund | None:
    """The order's refund with this id (None if it belongs to another order, or is no id)."""
    if not str(refund_id).isdigit():
        return None
    return order.refunds.filter(pk=int(refund_id)).first()


def refunds_unsettled(
    *, created_before: datetime | None = None, order: Order | None = None
) -> QuerySet[Refund]:
    """Refunds still pending here (all of `order`'s, or those created before `created_before`)."""
    refunds = Refund.objects.filter(status__in=UNSETTLED_REFUND_STATUSES).select_related("order")
    if order is not None:
        return refunds.filter(order=order)
    return refunds.filter(created_at__lt=created_before).order_by("created_at")


def dispute_statuses_of_order(*, order_id: int) -> list[str]:
    """Stripe's status of each dispute of the order's payment."""
    return list(Dispute.objects.filter(order_id=order_id).values_list("status", flat=True))


OPEN_DISPUTES = ~Q(status__in=Dispute.CLOSED_STATUSES)


@dataclass(frozen=True)
class OpenDisputes:
    count: int
    next_evidence_due_by: datetime | None  # the nearest deadline among them, if Stripe gave any


def disputes_open_summary() -> OpenDisputes:
    """How many disputes are open, and the nearest evidence deadline among them: one query."""
    figures = Dispute.objects.filter(OPEN_DISPUTES).aggregate(count=Count("pk"), due=Min("evidence_due_by"))
    return OpenDisputes(count=figures["count"], next_evidence_due_by=figures["due"])


def webhook_events_failed(*, order: Order | None = None) -> QuerySet[WebhookEvent]:
    """Events whose processing failed, oldest first (all, or those about `order`'s payment)."""
    events = WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.FAILED).order_by("received_at")
    if order is not None:
        return (
            events.filter(payment_intent_id=order.payment_intent_id)
            if order.payment_intent_id
            else events.none()
        )
    return events


def webhook_event_is_handled(*, stripe_event_id: str) -> bool:
    """Whether the event (by its id as stored) was processed or ignored already: a final outcome."""
    return WebhookEvent.objects.filter(
        stripe_event_id=stripe_event_id,
        outcome__in=(WebhookEvent.Outcome.PROCESSED, WebhookEvent.Outcome.IGNORED),
    ).exists()


def webhook_events_to_requeue(*, received_before: datetime, max_attempts: int) -> QuerySet[WebhookEvent]:
    """Events to apply again, oldest first: still RECEIVED since before `received_before`
    (their task was lost), or FAILED fewer than `max_attempts` times."""
    Outcome = WebhookEvent.Outcome
    return WebhookEvent.objects.filter(
        Q(outcome=Outcome.RECEIVED, received_at__lt=received_before)
        | Q(outcome=Outcome.FAILED, attempts__lt=max_attempts)
    ).order_by("received_at")


def webhook_events_handled_before(*, received_before: datetime) -> QuerySet[WebhookEvent]:
    """Processed and ignored events received before `received_before` (prunable)."""
    return WebhookEvent.objects.filter(
        outcome__in=(WebhookEvent.Outcome.PROCESSED, WebhookEvent.Outcome.IGNORED),
        received_at__lt=received_before,
    )


def webhook_event_applied_after(
    *, payment_intent_id: str, created: int, types: Iterable[str], exclude_event_id: str
) -> WebhookEvent | None:
    """An event of `types` for the PaymentIntent, applied already, that Stripe created after `created`.

    Stripe's `created` (seconds) orders events in its own timeline, whatever
    order they are delivered in.
    """
    return (
        WebhookEvent.objects.filter(
            payment_intent_id=payment_intent_id,
            type__in=list(types),
            outcome=WebhookEvent.Outcome.PROCESSED,
            payload__created__gt=created,
        )
        .exclude(stripe_event_id=exclude_event_id)
        .order_by("-received_at")
        .first()
    )
