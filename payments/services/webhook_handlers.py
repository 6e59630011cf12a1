"""What each Stripe event type does to our orders (`EVENT_HANDLERS`), used by the webhook's apply task.

A handler runs inside the task's transaction (payments/services/webhooks.py)
and returns a HandlerResult: the event's outcome, the order it touched, a
note for staff. The order services lock the order row for each change.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from payments.models import WebhookEvent
from payments.selectors import webhook_event_applied_after
from payments.services.disputes import DISPUTE_EVENT_TYPES, dispute_record_from_event
from payments.services.intents import (
    PAID_AFTER_CANCEL,
    PaymentOutcome,
    order_apply_payment_intent,
    order_paid_after_cancel,
)
from payments.services.refunds import refund_record_from_stripe
from shop.orders.models import Order, OrderStatus
from shop.orders.selectors import (
    order_get_by_metadata,
    order_get_by_payment_intent,
    order_get_for_update,
    order_last_moved_to,
)
from shop.orders.services import order_attach_payment_intent, order_flag_for_review

Outcome = WebhookEvent.Outcome
EVENT_ID_MAX = WebhookEvent._meta.get_field("stripe_event_id").max_length


@dataclass(frozen=True)
class HandlerResult:
    """What an event handler did: the event's outcome, the order it touched, a note for staff."""

    outcome: str
    order: Order | None = None
    note: str = ""


def stored_event_id(event_id: str) -> str:
    """The event id as stored: Stripe's own, or for an over-long one a prefix and a digest of the whole."""
    if len(event_id) <= EVENT_ID_MAX:
        return event_id
    return f"{event_id[: EVENT_ID_MAX - 33]}~{hashlib.sha256(event_id.encode()).hexdigest()[:32]}"


def payment_intent_id_of(event: dict) -> str:
    obj = event["data"]["object"]
    if obj.get("object") == "payment_intent":
        return str(obj.get("id") or "")
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    return intent if isinstance(intent, str) else ""


def _order_for_event(event: dict, metadata: dict) -> Order | None:
    """Our order for the event's PaymentIntent: by its id, else by the order our metadata names.

    The metadata (order id and number, set when we create PaymentIntents and
    refunds) finds an order whose PaymentIntent id was never saved (a crash
    or timeout after Stripe created it): the id is linked now. An order
    already linked to another PaymentIntent is not this event's.
    """
    intent_id = payment_intent_id_of(event)
    if intent_id:
        order = order_get_by_payment_intent(payment_intent_id=intent_id)
        if order is not None:
            return order
    order = order_get_by_metadata(metadata=metadata or {})
    if order is None or not intent_id:
        return order
    if order.payment_intent_id:
        return None
    return order_attach_payment_intent(order=order, payment_intent_id=intent_id)


EVENT_OUTCOMES = {
    "payment_intent.succeeded": PaymentOutcome.SUCCEEDED,
    "payment_intent.processing": PaymentOutcome.PROCESSING,
    "payment_intent.payment_failed": PaymentOutcome.FAILED,
    "payment_intent.canceled": PaymentOutcome.CANCELED,
}


def _on_payment_intent_event(event: dict, intent: dict) -> HandlerResult:
    order = _order_for_event(event, intent.get("metadata"))
    if order is None:
        return HandlerResult(Outcome.IGNORED, note="No order of ours has this PaymentIntent.")
    outcome = EVENT_OUTCOMES[event["type"]]
    if outcome in (PaymentOutcome.PROCESSING, PaymentOutcome.FAILED):
        # Locked first, so a concurrent delivery of a newer event has either
        # committed (and is seen below) or waits for this one.
        order = order_get_for_update(order_id=order.pk)
        stale = _stale_reason(event, order)
        if stale:
            return HandlerResult(Outcome.PROCESSED, order=order, note=f"No change: {stale}")
    applied = order_apply_payment_intent(
        order=order, intent=intent, cause=f"stripe event {event['id']} ({event['type']})", outcome=outcome
    )
    note = ""
    if applied.flagged and order_paid_after_cancel(applied.order):
        note = f"{PAID_AFTER_CANCEL}: flagged for review."
    elif applied.flagged:
        note = (
            "Amount, amount received or currency differs from the order: flagged for review, not marked paid."
        )
    elif not applied.changed:
        note = f"No change: the order is {applied.order.status}."
    return HandlerResult(Outcome.PROCESSED, order=applied.order, note=note)


def _stale_reason(event: dict, order: Order) -> str:
    """Why a processing/failed event is older news than what the order knows ("" if it is not).

    Stripe's `created` (seconds) orders its events. An event is old news when
    a payment event Stripe created later was applied already, or when it is a
    `processing` created before the order's failure was recorded here (by the
    success page, say, before Stripe's own `payment_failed` arrived): a new
    attempt after a failure is always created after the shopper saw it.
    """
    created = event.get("created")
    if not isinstance(created, int) or not order.payment_intent_id:
        return ""
    newer = webhook_event_applied_after(
        payment_intent_id=order.payment_intent_id,
        created=created,
        types=EVENT_OUTCOMES,
        exclude_event_id=stored_event_id(event["id"]),
    )
    if newer is not None:
        return f"older in Stripe's timeline than {newer.type} ({newer.stripe_event_id}), already applied."
    if event["type"] == "payment_intent.processing" and order.status == OrderStatus.FAILED:
        failed_at = order_last_moved_to(order=order, status=OrderStatus.FAILED)
        if failed_at is not None and created < failed_at.timestamp():
            return "created before the payment failure recorded here; the shopper may retry."
    return ""


def _on_charge_refunded(event: dict, charge: dict) -> HandlerResult:
    order = _order_for_event(event, charge.get("metadata"))
    if order is None:
        return HandlerResult(Outcome.IGNORED, note="No order of ours has this charge's PaymentIntent.")
    if (charge.get("currency") or "").lower() != order.currency:
        order = order_flag_for_review(
            order=order,
            reason=f"Refund in {charge.get('currency')} on charge {charge.get('id')}; "
            f"the order is in {order.currency}.",
            cause=f"stripe event {event['id']}",
        )
        return HandlerResult(Outcome.PROCESSED, order=order, note="Refund currency differs: flagged.")
    # The charge's amount_refunded is cumulative; the refunds it lists (older API
    # versions list them) get rows, so refunds made on the dashboard are seen.
    listed = charge.get("refunds") if isinstance(charge.get("refunds"), dict) else {}
    order = refund_record_from_stripe(
        order=order,
        refunds=[r for r in listed.get("data") or [] if isinstance(r, dict) and r.get("id")],
        charge_amount_refunded=int(charge.get("amount_refunded") or 0),
        cause=f"stripe event {event['id']} ({event['type']})",
    )
    return HandlerResult(Outcome.PROCESSED, order=order)


def _on_refund_event(event: dict, refund: dict) -> HandlerResult:
    """refund.created / refund.updated / refund.failed / charge.refund.updated."""
    order = _order_for_event(event, refund.get("metadata"))
    if order is None:
        return HandlerResult(Outcome.IGNORED, note="No order of ours has this refund's PaymentIntent.")
    order = refund_record_from_stripe(
        order=order, refunds=[refund], cause=f"stripe event {event['id']} ({event['type']})"
    )
    return HandlerResult(Outcome.PROCESSED, order=order)


def _on_dispute_event(event: dict, dispute: dict) -> HandlerResult:
    """charge.dispute.*: the dispute recorded (payments/services/disputes.py), with or without an order."""
    recorded = dispute_record_from_event(event=event, dispute=dispute)
    outcome = Outcome.IGNORED if recorded.dispute is None else Outcome.PROCESSED
    return HandlerResult(outcome, order=recorded.order, note=recorded.note)


EVENT_HANDLERS: dict[str, Callable[[dict, dict], HandlerResult]] = {
    **dict.fromkeys(EVENT_OUTCOMES, _on_payment_intent_event),
    "charge.refunded": _on_charge_refunded,
    **dict.fromkeys(
        ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"], _on_refund_event
    ),
    **dict.fromkeys(DISPUTE_EVENT_TYPES, _on_dispute_event),
}
