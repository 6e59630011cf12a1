"""Disputes from Stripe's `charge.dispute.*` events: one record per dispute, the newest event wins.

`dispute_record_from_event` runs in the transaction of the webhook's apply
task (payments/services/webhook_handlers.py). It locks the dispute's row,
creating it on the dispute's first event (the unique Stripe id makes a
concurrent first event wait, then find it), and applies an event only if
Stripe created it no earlier than the last one applied to that dispute: an
older event delivered late changes nothing. Events of the same second apply
as they arrive (Stripe sends `created` and `funds_withdrawn` together, with
the same dispute). A redelivered event never gets here: the event store
applies each event id once.

A dispute is linked to the order holding its PaymentIntent; one that matches
no order of ours is recorded without an order (staff see it in the admin).
The order's `dispute_status` is worked out from all its disputes. A new
dispute owes staff one email, enqueued in this transaction.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from core.tasks import task_enqueue
from payments.models import Dispute
from payments.selectors import dispute_statuses_of_order
from payments.tasks import dispute_staff_email_send
from shop.orders.models import DisputeStatus, Order
from shop.orders.selectors import order_get_by_payment_intent
from shop.orders.services import order_mark_disputed

DISPUTE_EVENT_TYPES = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
ID_MAX = Dispute._meta.get_field("stripe_dispute_id").max_length
TEXT_MAX = Dispute._meta.get_field("status").max_length


@dataclass(frozen=True)
class DisputeRecorded:
    """What became of a dispute event: the dispute (None: no dispute in it), its order, a note for staff."""

    dispute: Dispute | None
    order: Order | None = None
    note: str = ""


def dispute_record_from_event(*, event: dict, dispute: dict) -> DisputeRecorded:
    """Record (or bring up to date) the dispute a `charge.dispute.*` event carries.

    Call inside a transaction. Returns what was done; a stale event changes nothing.
    """
    stripe_id = dispute.get("id")
    if not isinstance(stripe_id, str) or not stripe_id:
        return DisputeRecorded(None, note="The event's dispute has no id.")
    event_created = _moment(event.get("created")) or timezone.now()
    fields = {
        **_dispute_fields(dispute, fallback_opened_at=event_created),
        "last_event_id": str(event["id"])[:ID_MAX],
        "last_event_type": str(event["type"])[:TEXT_MAX],
        "last_event_created": event_created,
    }
    with transaction.atomic(savepoint=False):
        record, created = Dispute.objects.select_for_update().get_or_create(
            stripe_dispute_id=stripe_id[:ID_MAX], defaults=fields
        )
        if not created:
            if event_created < record.last_event_created:
                return DisputeRecorded(
                    record,
                    record.order,
                    note=f"No change: older than {record.last_event_type} ({record.last_event_id}), "
                    "already applied to this dispute.",
                )
            _dispute_update(record, fields)
        record.closed_at = _closed_at(record, event_created)
        if record.order_id is None and record.payment_intent_id:
            record.order = order_get_by_payment_intent(payment_intent_id=record.payment_intent_id)
        record.save()
        order = record.order
        if order is not None:
            order = order_mark_disputed(
                order=order,
                dispute_status=_order_dispute_status(dispute_statuses_of_order(order_id=order.pk)),
                cause=f"stripe event {event['id']} ({event['type']})",
            )
        if created:
            task_enqueue(dispute_staff_email_send, record.pk)
    return DisputeRecorded(record, order, note=_note(record, created))


def _dispute_fields(dispute: dict, *, fallback_opened_at: datetime) -> dict:
    evidence = dispute.get("evidence_details")
    due_by = evidence.get("due_by") if isinstance(evidence, dict) else None
    amount = dispute.get("amount")
    return {
        "payment_intent_id": _expandable_id(dispute.get("payment_intent")),
        "charge_id": _expandable_id(dispute.get("charge")),
        "amount": amount if isinstance(amount, int) and amount >= 0 else 0,
        "currency": str(dispute.get("currency") or "").lower()[:3],
        "reason": str(dispute.get("reason") or "")[:TEXT_MAX],
        "status": str(dispute.get("status") or "")[:TEXT_MAX],
        "evidence_due_by": _moment(due_by),
        "opened_at": _moment(dispute.get("created")) or fallback_opened_at,
    }


def _dispute_update(record: Dispute, fields: dict) -> None:
    for name, value in fields.items():
        if name == "payment_intent_id" and not value:
            continue  # an event without it does not unlink what an earlier one said
        setattr(record, name, value)


def _closed_at(record: Dispute, event_created: datetime) -> datetime | None:
    """When it closed: kept from the event that first closed it; none while open (an appeal reopens it)."""
    if record.is_open:
        return None
    return record.closed_at or event_created


def _order_dispute_status(statuses: list[str]) -> str:
    """Where an order's disputes stand together: open while any is, else lost if any was, else won."""
    if any(status not in Dispute.CLOSED_STATUSES for status in statuses):
        return DisputeStatus.OPEN
    if "lost" in statuses:
        return DisputeStatus.LOST
    return DisputeStatus.WON


def _note(record: Dispute, created: bool) -> str:
    kind = "New dispute" if created else "Dispute"
    what = f"{kind} {record.stripe_dispute_id}: {record.status or 'no status'}"
    if record.order is None:
        intent = record.payment_intent_id or "(none given)"
        return f"{what}. No order of ours has PaymentIntent {intent}: recorded without an order."
    return f"{what}."


def _expandable_id(value) -> str:
    if isinstance(value, dict):  # expanded
        value = value.get("id")
    return value[:ID_MAX] if isinstance(value, str) else ""


def _moment(timestamp) -> datetime | None:
    """A Stripe timestamp (seconds since the epoch) as an aware datetime; None if there is none."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        return None
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
