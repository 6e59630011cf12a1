"""Stripe webhooks: verify, store once, apply to the order, record the outcome.

Stripe delivers at least once, maybe twice at the same time, maybe out of
order. Each event id is stored once (unique column). The event and its effect
on the order commit together; a failure rolls both back, is recorded, and
the caller answers 5xx so Stripe retries. A redelivered event is applied
again only if its earlier attempt failed.
"""

import json
import logging
import traceback
from collections.abc import Callable

import stripe
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from payments.models import WebhookEvent
from payments.services.intents import order_apply_payment_intent
from payments.services.refunds import refund_record_from_stripe
from shop.orders.models import Order
from shop.orders.services import order_attach_payment_intent, order_flag_for_review

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome


class WebhookRejected(Exception):
    """Not a genuine Stripe event (bad signature, stale, malformed): answer 400."""


class HandlerResult:
    def __init__(self, outcome: str, order: Order | None = None, note: str = ""):
        self.outcome, self.order, self.note = outcome, order, note


def stripe_event_verify(*, payload: bytes, signature: str) -> dict:
    """The event in `payload` if Stripe signed it for our endpoint, else WebhookRejected."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("webhook_rejected reason=missing_setting setting=STRIPE_WEBHOOK_SECRET")
        raise WebhookRejected("Webhook secret not configured.")
    if not signature:
        raise WebhookRejected("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(text)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Signature verification failed: {exc.user_message or exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookRejected("Body is not JSON.") from exc
    if not _looks_like_event(event):
        raise WebhookRejected("Body is not a Stripe event.")
    return event


def _looks_like_event(event) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


class _Duplicate(Exception):
    pass


HANDLED_OUTCOMES = (Outcome.PROCESSED, Outcome.IGNORED)


def stripe_event_process(*, event: dict) -> str:
    """Store and apply a verified event. Returns its outcome, or "duplicate".

    A new event is applied first and stored last, in one transaction: if a
    concurrent delivery of the same event committed meanwhile, the unique
    event id makes this insert fail and everything this attempt did rolls
    back. Raises (after recording the error) when applying fails, so the
    caller can answer 5xx and Stripe retries.
    """
    try:
        stored_outcome = (
            WebhookEvent.objects.filter(stripe_event_id=event["id"]).values_list("outcome", flat=True).first()
        )
        if stored_outcome in HANDLED_OUTCOMES:
            return _duplicate(event)
        if stored_outcome is None:
            try:
                with transaction.atomic():
                    return _event_apply(event, record=None)
            except _Duplicate:
                pass
        # Stored after a failed attempt, or just now by a concurrent delivery:
        # the row lock waits for that one to finish.
        with transaction.atomic():
            record = WebhookEvent.objects.select_for_update().get(stripe_event_id=event["id"])
            if record.outcome in HANDLED_OUTCOMES:
                return _duplicate(event)
            return _event_apply(event, record=record)
    except Exception as exc:
        _event_record_failure(event, exc)
        raise


def _duplicate(event: dict) -> str:
    logger.info("webhook_duplicate event=%s type=%s", event["id"], event["type"])
    return "duplicate"


def _event_apply(event: dict, *, record: WebhookEvent | None) -> str:
    """Run the event's handler, then store the event (new) or its new outcome (retry)."""
    handler = EVENT_HANDLERS.get(event["type"])
    if handler is None:
        result = HandlerResult(Outcome.IGNORED, note=f"Event type {event['type']} is not used by this shop.")
    else:
        result = handler(event, event["data"]["object"])
    outcome = {
        "outcome": result.outcome,
        "order": result.order,
        "note": result.note,
        "error": "",
        "processed_at": timezone.now(),
    }
    if record is None:
        try:
            record = WebhookEvent.objects.create(**_event_fields(event), attempts=1, **outcome)
        except IntegrityError as exc:
            raise _Duplicate() from exc
    else:
        for name, value in outcome.items():
            setattr(record, name, value)
        record.attempts += 1
        record.save(update_fields=[*outcome, "attempts"])
    logger.info(
        "webhook_processed event=%s type=%s payment_intent=%s order=%s outcome=%s",
        record.stripe_event_id,
        record.type,
        record.payment_intent_id or "-",
        result.order.number if result.order else "-",
        result.outcome,
    )
    return result.outcome


def _event_fields(event: dict) -> dict:
    return {
        "stripe_event_id": event["id"],
        "type": event["type"],
        "livemode": bool(event.get("livemode")),
        "payload": event,
        "payment_intent_id": _payment_intent_id_of(event),
    }


def _event_record_failure(event: dict, exc: Exception) -> None:
    """Record a failed attempt outside the rolled-back transaction."""
    error = "".join(traceback.format_exception(exc))[-10000:]
    logger.error(
        "webhook_failed event=%s type=%s error=%s", event.get("id"), event.get("type"), type(exc).__name__
    )
    try:
        updated = WebhookEvent.objects.filter(stripe_event_id=event["id"]).update(
            outcome=Outcome.FAILED, error=error, attempts=F("attempts") + 1
        )
        if not updated:
            WebhookEvent.objects.create(
                **_event_fields(event), outcome=Outcome.FAILED, error=error, attempts=1
            )
    except DatabaseError:
        logger.exception("webhook_failure_not_recorded event=%s", event.get("id"))


def _payment_intent_id_of(event: dict) -> str:
    obj = event["data"]["object"]
    if obj.get("object") == "payment_intent":
        return str(obj.get("id") or "")
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    return intent if isinstance(intent, str) else ""


def order_find_for_payment_intent(intent: dict) -> Order | None:
    """Our order for this PaymentIntent: by its id, else by the order id in its metadata."""
    order = Order.objects.filter(payment_intent_id=intent["id"]).first()
    if order is not None:
        return order
    order_id = str((intent.get("metadata") or {}).get("order_id") or "")
    number = (intent.get("metadata") or {}).get("order_number")
    if not order_id.isdigit():
        return None
    order = Order.objects.filter(pk=int(order_id), number=number).first()
    if order is None or order.payment_intent_id not in (None, "", intent["id"]):
        return None
    # The intent was created but its id never saved (crash or timeout): link it now.
    return order_attach_payment_intent(order=order, payment_intent_id=intent["id"])


EVENT_OUTCOMES = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.processing": "processing",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "canceled",
}


def _on_payment_intent_event(event: dict, intent: dict) -> HandlerResult:
    order = order_find_for_payment_intent(intent)
    if order is None:
        return HandlerResult(Outcome.IGNORED, note="No order of ours has this PaymentIntent.")
    before = (order.status, order.needs_review)
    order = order_apply_payment_intent(
        order=order,
        intent=intent,
        cause=f"stripe event {event['id']} ({event['type']})",
        outcome=EVENT_OUTCOMES[event["type"]],
    )
    note = ""
    if order.needs_review and not before[1]:
        note = "Amount or currency differs from the order: flagged for review, not marked paid."
    elif order.status == before[0]:
        note = f"No change: the order is {order.status}."
    return HandlerResult(Outcome.PROCESSED, order=order, note=note)


def _on_charge_refunded(event: dict, charge: dict) -> HandlerResult:
    intent_id = _payment_intent_id_of(event)
    order = Order.objects.filter(payment_intent_id=intent_id).first() if intent_id else None
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
    order = _order_for_refund(event, refund)
    if order is None:
        return HandlerResult(Outcome.IGNORED, note="No order of ours has this refund's PaymentIntent.")
    order = refund_record_from_stripe(
        order=order, refunds=[refund], cause=f"stripe event {event['id']} ({event['type']})"
    )
    return HandlerResult(Outcome.PROCESSED, order=order)


def _order_for_refund(event: dict, refund: dict) -> Order | None:
    intent_id = _payment_intent_id_of(event)
    if intent_id:
        return Order.objects.filter(payment_intent_id=intent_id).first()
    metadata = refund.get("metadata") or {}
    order_id = str(metadata.get("order_id") or "")
    if not order_id.isdigit():
        return None
    return Order.objects.filter(pk=int(order_id), number=metadata.get("order_number")).first()


EVENT_HANDLERS: dict[str, Callable[[dict, dict], HandlerResult]] = {
    **dict.fromkeys(EVENT_OUTCOMES, _on_payment_intent_event),
    "charge.refunded": _on_charge_refunded,
    **dict.fromkeys(
        ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"], _on_refund_event
    ),
}
