"""Stripe webhooks: verify, store once, enqueue one task per event; the task applies it to its order.

The request (`stripe_event_verify`, `stripe_event_receive`): verify the
signature over the raw body; an event handled already is answered after one
read. Otherwise one transaction gets or creates the event by its Stripe id
(a FAILED one goes back to RECEIVED) and enqueues `webhook_event_apply`
(`task_enqueue`: the database backend writes the task in that transaction,
RQ pushes it on commit). The view answers 200 only once it has committed.

The task (`stripe_event_apply`), in one transaction: lock the event, skip it
if handled meanwhile, apply it (the order services lock the order), record
the outcome; on failure roll back and record FAILED with the traceback.

How it fails: nothing committed means no 200, and Stripe redelivers. An event
left RECEIVED (task lost) or FAILED is enqueued again by sync_payments
(`webhook_events_requeue`; FAILED up to MAX_ATTEMPTS, then staff replay it).
A second task for one event waits for the row lock and finds it handled.
"""

import json
import logging
import re
import traceback
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import TaskResultStatus

from core.tasks import task_enqueue
from payments.json_body import MAX_DEPTH, JsonBodyRejected, json_body_parse
from payments.models import WebhookEvent
from payments.selectors import (
    webhook_event_is_handled,
    webhook_events_handled_before,
    webhook_events_to_requeue,
)
from payments.services.webhook_handlers import (
    EVENT_HANDLERS,
    HandlerResult,
    payment_intent_id_of,
    stored_event_id,
)
from payments.tasks import webhook_event_apply

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome
HANDLED_OUTCOMES = (Outcome.PROCESSED, Outcome.IGNORED)
DUPLICATE = "duplicate"  # an event handled already: acknowledged, not applied again
QUEUED = "queued"  # stored, its task enqueued; a worker applies it
MISSING = "missing"  # the task's event is no longer stored (deleted by staff)

REQUEUE_RECEIVED_AFTER = timedelta(minutes=5)  # far beyond a healthy queue's delay
MAX_ATTEMPTS = 5  # failed applies sync_payments retries; then staff replay it

PAYMENT_INTENT_ID_MAX = WebhookEvent._meta.get_field("payment_intent_id").max_length
TYPE_MAX = WebhookEvent._meta.get_field("type").max_length
# A PaymentIntent's client secret (pi_..._secret_...): it lets anyone confirm the
# payment or read it back, so stored payloads (read by every staff user) never hold
# it. Matched in the body's JSON text, so no word boundary: an escape such as \n
# may stand right before it there.
CLIENT_SECRET = re.compile(r"(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+")
MASKED_CLIENT_SECRET = r"\1_secret_[masked]"
# JSON escapes PostgreSQL's jsonb refuses: NUL, and a surrogate that is not half of a
# pair (a high one followed by a low one is kept). Not preceded by an odd run of
# backslashes, which would make it the text "\u0000" already.
JSONB_REFUSED_ESCAPE = re.compile(
    r"(?<!\\)((?:\\\\)*)(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
)


class WebhookRejected(Exception):
    """Not a genuine Stripe event (bad signature, stale, malformed): answer 400."""


def stripe_event_verify(*, payload: bytes, signature: str) -> dict:
    """The event in `payload` if Stripe signed it for our endpoint, else WebhookRejected.

    The event comes back as it is stored: PaymentIntent client secrets masked,
    and NUL characters and lone surrogates (which PostgreSQL cannot store)
    written out as text (the six characters \\u0000, \\ud800), so a signed event
    holding one is still stored, with everything else as it came.
    """
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
    if "\\u0000" in text or "\\ud" in text or "\\uD" in text:
        text = JSONB_REFUSED_ESCAPE.sub(_written_out, text)
    event = _event_parsed(CLIENT_SECRET.sub(MASKED_CLIENT_SECRET, text))
    if not _looks_like_event(event):
        raise WebhookRejected("Body is not a Stripe event.")
    return event


def _written_out(match: re.Match) -> str:
    """A surrogate pair as it came; a NUL or lone surrogate escape as its own text (its backslash escaped)."""
    backslashes, escape = match.groups()
    return match.group(0) if len(escape) == 12 else f"{backslashes}\\{escape}"


def _event_parsed(text: str):
    # A body with no more brackets than the depth limit cannot nest deeper:
    # decode it directly. Anything else goes through the shared parser's checks.
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        try:
            return json.loads(text)
        except ValueError:
            pass  # the shared parser says why
    try:
        return json_body_parse(text, max_bytes=len(text))
    except JsonBodyRejected as exc:
        raise WebhookRejected(f"Body is not JSON: {exc}") from exc


def _looks_like_event(event) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


def stripe_event_receive(*, event: dict) -> str:
    """Store a verified event once and enqueue its apply task unless it was handled; what became of it.

    DUPLICATE (handled before), QUEUED (a worker applies it), or, with a
    backend that runs the task at once (the tests' immediate one), the
    outcome of applying it. Returns once the transaction has committed. A
    database error propagates: nothing is acknowledged, Stripe redelivers.
    """
    event_id = stored_event_id(event["id"])
    if webhook_event_is_handled(stripe_event_id=event_id):  # handled is final: no transaction needed
        return DUPLICATE
    with transaction.atomic(durable=True):
        # Locked: an apply task at work on it finishes first, and no two deliveries change it at once.
        record, _ = WebhookEvent.objects.select_for_update().get_or_create(
            stripe_event_id=event_id, defaults=_event_fields(event)
        )
        if record.outcome in HANDLED_OUTCOMES:  # applied between the read and the lock
            return DUPLICATE
        if record.outcome == Outcome.FAILED:  # Stripe's redelivery (or resend): apply it again
            record.outcome = Outcome.RECEIVED
            record.save(update_fields=["outcome"])
        result = task_enqueue(webhook_event_apply, record.pk)
    if result is None or not result.is_finished:
        return QUEUED
    return result.return_value if result.status == TaskResultStatus.SUCCESSFUL else Outcome.FAILED


def _event_fields(event: dict) -> dict:
    """A new event's row: RECEIVED, with what staff search by."""
    return {
        "type": event["type"][:TYPE_MAX],
        "livemode": bool(event.get("livemode")),
        "payload": event,
        "payment_intent_id": payment_intent_id_of(event)[:PAYMENT_INTENT_ID_MAX],
        "outcome": Outcome.RECEIVED,
    }


def stripe_event_apply(*, event_pk: int) -> str:
    """Apply a stored event to its order once and record the outcome; returns it (or DUPLICATE, MISSING).

    What the `webhook_event_apply` task and staff's replay run. On failure
    the transaction rolls back, FAILED is recorded with the traceback
    (attempts + 1) and the error is raised again (the task fails).
    """
    try:
        with transaction.atomic():
            try:
                record = WebhookEvent.objects.select_for_update().get(pk=event_pk)
            except WebhookEvent.DoesNotExist:
                return MISSING
            if record.outcome in HANDLED_OUTCOMES:  # applied by another task meanwhile
                return DUPLICATE
            result = _event_apply(record.payload)
            _event_record(record, result)
    except Exception as exc:
        _event_record_failure(event_pk, exc)
        raise
    return result.outcome


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


def _event_record_failure(event_pk: int, exc: Exception) -> bool:
    """Record a failed attempt, outside the rolled-back transaction; whether it could be."""
    error = "".join(traceback.format_exception(exc))[-10000:].replace("\x00", "\\u0000")
    logger.error("webhook_failed", extra={"event_pk": event_pk, "error": type(exc).__name__})
    try:
        WebhookEvent.objects.filter(pk=event_pk).update(
            outcome=Outcome.FAILED, error=error, attempts=F("attempts") + 1
        )
    except DatabaseError:
        logger.exception("webhook_failure_not_recorded", extra={"event_pk": event_pk})
        return False
    return True


def webhook_events_requeue() -> int:
    """Enqueue again the events whose task was lost or whose apply failed; how many.

    Run periodically (sync_payments): events still RECEIVED after
    REQUEUE_RECEIVED_AFTER, and FAILED events with fewer than MAX_ATTEMPTS
    attempts (Stripe no longer retries an event we answered 200). An event
    whose earlier task is only late is applied once all the same.
    """
    events = list(
        webhook_events_to_requeue(
            received_before=timezone.now() - REQUEUE_RECEIVED_AFTER, max_attempts=MAX_ATTEMPTS
        )
    )
    for event in events:
        task_enqueue(webhook_event_apply, event.pk)
        logger.info(
            "webhook_requeued",
            extra={"event_id": event.stripe_event_id, "outcome": event.outcome, "attempts": event.attempts},
        )
    return len(events)


def webhook_events_prune(*, older_than: timedelta, dry_run: bool = False) -> int:
    """Delete processed and ignored events received more than `older_than` ago; how many.

    Failed (and never finished) events are kept: staff read them, and
    sync_payments and the admin's Replay apply them again.
    """
    old = webhook_events_handled_before(received_before=timezone.now() - older_than)
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    logger.info("webhook_events_pruned", extra={"deleted": deleted, "older_than_days": older_than.days})
    return deleted
