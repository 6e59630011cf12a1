"""Stripe webhooks: verify, store once, apply to the order, record the outcome.

Stripe delivers at least once, maybe twice at the same time, maybe out of
order. Each event id is stored once (unique column). The event and its effect
on the order commit together; a failure rolls both back, is recorded, and
the caller answers 5xx so Stripe retries. A redelivered event is applied
again only if its earlier attempt failed.
"""

import hashlib
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from payments.json_body import JsonBodyRejected, json_body_parse
from payments.models import WebhookEvent
from payments.selectors import webhook_event_applied_after, webhook_events_handled_before
from payments.services.intents import PaymentOutcome, order_apply_payment_intent
from payments.services.refunds import refund_record_from_stripe
from shop.orders.models import Order, OrderStatus
from shop.orders.selectors import (
    order_get_by_metadata,
    order_get_by_payment_intent,
    order_get_for_update,
    order_last_moved_to,
)
from shop.orders.services import order_attach_payment_intent, order_flag_for_review

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome


class WebhookRejected(Exception):
    """Not a genuine Stripe event (bad signature, stale, malformed): answer 400."""


@dataclass(frozen=True)
class HandlerResult:
    """What an event handler did: the event's outcome, the order it touched, a note for staff."""

    outcome: str
    order: Order | None = None
    note: str = ""


def stripe_event_verify(*, payload: bytes, signature: str) -> dict:
    """The event in `payload` if Stripe signed it for our endpoint, else WebhookRejected."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error(
            "webhook_rejected", extra={"reason": "missing_setting", "setting": "STRIPE_WEBHOOK_SECRET"}
        )
        raise WebhookRejected("Webhook secret not configured.")
    if not signature:
        raise WebhookRejected("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Signature verification failed: {exc.user_message or exc}") from exc
    except UnicodeDecodeError as exc:
        raise WebhookRejected("Body is not JSON.") from exc
    try:
        event = json_body_parse(text, max_bytes=len(text))
    except JsonBodyRejected as exc:
        raise WebhookRejected(f"Body is not JSON: {exc}") from exc
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


HANDLED_OUTCOMES = (Outcome.PROCESSED, Outcome.IGNORED)
DUPLICATE = "duplicate"  # what stripe_event_process returns for an event already handled


def stripe_event_process(*, event: dict) -> str:
    """Store a verified event, apply it once, record the outcome. Returns it, or DUPLICATE.

    1. Insert-or-get the event's row (a new one is RECEIVED, received now).
       Already processed or ignored: a duplicate, acknowledged; one query.
    2. In one transaction: lock the row, so a concurrent delivery of the same
       event waits here and then finds it handled; apply the event to its
       order; record the outcome.
    3. If applying fails, the transaction rolls back (the order is untouched),
       the failure and its traceback are recorded on the row, and the error
       is raised again so the view answers 5xx and Stripe redelivers; the
       redelivery applies it again, as the row is not handled.
    """
    event = event_sanitised(event)
    try:
        event_pk, stored_outcome = _event_receive(event)
        if stored_outcome in HANDLED_OUTCOMES:
            return _duplicate(event)
        with transaction.atomic():
            # Without the payload: it is the event in hand, and decoding its JSON again costs time.
            record = WebhookEvent.objects.select_for_update().defer("payload").get(pk=event_pk)
            if record.outcome in HANDLED_OUTCOMES:  # applied by a concurrent delivery meanwhile
                return _duplicate(event)
            result = _event_apply(event)
            _event_record(record, result)
    except Exception as exc:
        _event_record_failure(event, exc)
        raise
    return result.outcome


def _event_receive(event: dict) -> tuple[int, str]:
    """Insert the event's row, or get the stored one: (its id, its outcome).

    One statement, INSERT ... ON CONFLICT DO UPDATE ... RETURNING (PostgreSQL
    and SQLite): the no-op update is what makes an existing row come back,
    and it waits for a delivery of the same event that holds the row locked.
    It commits on its own, so every genuine delivery is on record even if
    the worker dies while applying it.
    """
    row = WebhookEvent(**_event_fields(event), outcome=Outcome.RECEIVED)
    fields = [field for field in WebhookEvent._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    key = quote(WebhookEvent._meta.get_field("stripe_event_id").column)
    sql = (
        f"INSERT INTO {quote(WebhookEvent._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {key} = excluded.{key} "
        f"RETURNING {quote(WebhookEvent._meta.pk.column)}, {quote('outcome')}"
    )
    params = [field.get_db_prep_save(field.pre_save(row, add=True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event_pk, outcome = cursor.fetchone()
    return event_pk, outcome


def _duplicate(event: dict) -> str:
    logger.info("webhook_duplicate", extra={"event_id": event["id"], "event_type": event["type"]})
    return DUPLICATE


def _event_apply(event: dict) -> HandlerResult:
    handler = EVENT_HANDLERS.get(event["type"])
    if handler is None:
        return HandlerResult(Outcome.IGNORED, note=f"Event type {event['type']} is not used by this shop.")
    return handler(event, event["data"]["object"])


def _event_record(record: WebhookEvent, result: HandlerResult) -> None:
    record.outcome, record.order, record.note = result.outcome, result.order, result.note
    record.error, record.processed_at = "", timezone.now()
    record.attempts += 1
    record.save(update_fields=["outcome", "order", "note", "error", "processed_at", "attempts"])
    logger.info(
        "webhook_processed",
        extra={
            "event_id": record.stripe_event_id,
            "event_type": record.type,
            "payment_intent": record.payment_intent_id or None,
            "order": result.order.number if result.order else None,
            "outcome": result.outcome,
        },
    )


def _event_fields(event: dict) -> dict:
    return {
        "stripe_event_id": stored_event_id(event["id"]),
        "type": event["type"][: WebhookEvent._meta.get_field("type").max_length],
        "livemode": bool(event.get("livemode")),
        "payload": _secrets_masked(event),
        "payment_intent_id": _payment_intent_id_of(event)[:PAYMENT_INTENT_ID_MAX],
    }


PAYMENT_INTENT_ID_MAX = WebhookEvent._meta.get_field("payment_intent_id").max_length
EVENT_ID_MAX = WebhookEvent._meta.get_field("stripe_event_id").max_length
# A PaymentIntent's client secret (pi_..._secret_...): it lets anyone confirm the
# payment or read it back, so stored payloads (read by every staff user) never hold it.
CLIENT_SECRET = re.compile(r"\b(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+")
MASKED_CLIENT_SECRET = r"\1_secret_[masked]"


def stored_event_id(event_id: str) -> str:
    """The event id as stored: Stripe's own, or for an over-long one a prefix and a digest of the whole."""
    if len(event_id) <= EVENT_ID_MAX:
        return event_id
    return f"{event_id[: EVENT_ID_MAX - 33]}~{hashlib.sha256(event_id.encode()).hexdigest()[:32]}"


def event_sanitised(event: dict) -> dict:
    """The event with NUL characters written out as the six characters \\u0000.

    PostgreSQL cannot store NUL in text or jsonb; a signed event holding one is
    still Stripe's and is stored, with everything else as it came.
    """
    return _strings_mapped(event, lambda text: text.replace("\x00", "\\u0000"))


def _secrets_masked(event: dict) -> dict:
    return _strings_mapped(event, lambda text: CLIENT_SECRET.sub(MASKED_CLIENT_SECRET, text))


def _strings_mapped(value, change: Callable[[str], str]):
    """`value` with `change` applied to every string in it, keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(str(key)): _strings_mapped(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_strings_mapped(item, change) for item in value]
    return value


def _event_record_failure(event: dict, exc: Exception) -> None:
    """Record a failed attempt, outside the rolled-back transaction."""
    error = "".join(traceback.format_exception(exc))[-10000:].replace("\x00", "\\u0000")
    logger.error(
        "webhook_failed",
        extra={"event_id": event.get("id"), "event_type": event.get("type"), "error": type(exc).__name__},
    )
    try:
        updated = WebhookEvent.objects.filter(stripe_event_id=stored_event_id(event["id"])).update(
            outcome=Outcome.FAILED, error=error, attempts=F("attempts") + 1
        )
        if not updated:  # the database failed before the row was stored
            WebhookEvent.objects.create(
                **_event_fields(event), outcome=Outcome.FAILED, error=error, attempts=1
            )
    except DatabaseError:
        logger.exception("webhook_failure_not_recorded", extra={"event_id": event.get("id")})


def _payment_intent_id_of(event: dict) -> str:
    obj = event["data"]["object"]
    if obj.get("object") == "payment_intent":
        return str(obj.get("id") or "")
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    return intent if isinstance(intent, str) else ""


def webhook_events_prune(*, older_than: timedelta, dry_run: bool = False) -> int:
    """Delete processed and ignored events received more than `older_than` ago; how many.

    Failed (and never finished) events are kept: staff read them and
    `sync_payments --replay-failed-events` replays them.
    """
    old = webhook_events_handled_before(received_before=timezone.now() - older_than)
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    logger.info("webhook_events_pruned", extra={"deleted": deleted, "older_than_days": older_than.days})
    return deleted


def _order_for_event(event: dict, metadata: dict) -> Order | None:
    """Our order for the event's PaymentIntent: by its id, else by the order our metadata names.

    The metadata (order id and number, set when we create PaymentIntents and
    refunds) finds an order whose PaymentIntent id was never saved (a crash
    or timeout after Stripe created it): the id is linked now. An order
    already linked to another PaymentIntent is not this event's.
    """
    intent_id = _payment_intent_id_of(event)
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
    if applied.flagged:
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


EVENT_HANDLERS: dict[str, Callable[[dict, dict], HandlerResult]] = {
    **dict.fromkeys(EVENT_OUTCOMES, _on_payment_intent_event),
    "charge.refunded": _on_charge_refunded,
    **dict.fromkeys(
        ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"], _on_refund_event
    ),
}
