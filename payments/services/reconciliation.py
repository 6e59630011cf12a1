"""Reconciliation: catch up with Stripe when webhooks were missed, late or failed.

Used by `manage.py sync_payments`. Each order is read from Stripe and changed
through the same services as webhooks (`order_apply_payment_intent`, which
locks the order row for each change), so a run is safe to repeat and to
overlap with webhook deliveries; no lock is held while Stripe answers.
Stripe being unreachable stops the run (the next one carries on).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.utils import timezone

from payments.exceptions import PaymentError, PaymentProviderUnavailable, PaymentRejected, StripeNotConfigured
from payments.models import Refund, WebhookEvent
from payments.selectors import refunds_unsettled, webhook_events_failed
from payments.services.intents import (
    PaymentIntentStatus,
    PaymentOutcome,
    order_apply_payment_intent,
    payment_intent_cancel_for_order,
    payment_intent_outcome,
    payment_intent_retrieve,
)
from payments.services.refunds import refund_refresh
from payments.services.webhooks import (
    DUPLICATE,
    MAX_ATTEMPTS,
    stripe_event_apply,
    webhook_events_requeue,
)
from payments.stripe_client import stripe_call
from shop.orders.models import Order, OrderStatus
from shop.orders.selectors import (
    order_get_by_number,
    orders_payment_intent_cancel_pending,
    orders_unsettled,
)
from shop.orders.services import OrderTransitionNotAllowed, order_mark_canceled
from shop.orders.tasks import order_emails_requeue

logger = logging.getLogger(__name__)

CAUSE = "sync_payments"
# Orders whose payment may have moved on Stripe without us hearing of it.
SYNCED_STATUSES = (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.FAILED)
# Unpaid orders that are canceled once abandoned (a processing payment is left to finish).
ABANDONABLE_STATUSES = (OrderStatus.PENDING, OrderStatus.FAILED)
# PaymentIntent statuses Stripe lets us cancel.
CANCELABLE_INTENT_STATUSES = (
    PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
    PaymentIntentStatus.REQUIRES_CONFIRMATION,
    PaymentIntentStatus.REQUIRES_ACTION,
    PaymentIntentStatus.REQUIRES_CAPTURE,
)
# PaymentIntent outcomes of an abandoned order that sync_payments cancels.
ABANDONED_OUTCOMES = (PaymentOutcome.OPEN, PaymentOutcome.FAILED)


@dataclass
class SyncStep:
    changed: bool
    text: str


@dataclass
class SyncSummary:
    checked: int = 0
    changed: int = 0
    failed: int = 0
    aborted: str = ""

    def line(self) -> str:
        return f"checked {self.checked}, changed {self.changed}, failed {self.failed}"


def orders_to_sync(*, older_than: timedelta, order_number: str | None = None) -> list[Order]:
    """Unsettled orders created more than `older_than` ago (or just the one named, as it is)."""
    if order_number:
        order = order_get_by_number(number=order_number)
        return [order] if order else []
    return list(orders_unsettled(statuses=SYNCED_STATUSES, created_before=timezone.now() - older_than))


def refunds_to_sync(*, older_than: timedelta, order_number: str | None = None) -> list[Refund]:
    """Refunds still pending here: Stripe never answered, or has not settled them yet."""
    if order_number:
        order = order_get_by_number(number=order_number)
        return list(refunds_unsettled(order=order)) if order else []
    return list(refunds_unsettled(created_before=timezone.now() - older_than))


def events_to_replay(*, order_number: str | None = None) -> list[WebhookEvent]:
    if order_number:
        order = order_get_by_number(number=order_number)
        return list(webhook_events_failed(order=order)) if order else []
    return list(webhook_events_failed())


def reservation_expired(order: Order) -> bool:
    """The unpaid order has held its copies longer than STOCK_RESERVATION_MINUTES."""
    held_since = timezone.now() - timedelta(minutes=settings.STOCK_RESERVATION_MINUTES)
    return (
        order.status in ABANDONABLE_STATUSES
        and order.stock_reserved
        and order.stock_reserved_at is not None
        and order.stock_reserved_at < held_since
    )


def order_sync(*, order: Order, abandon_before: datetime | None = None, dry_run: bool = False) -> SyncStep:
    """Apply the order's PaymentIntent as Stripe has it; cancel it if abandoned before `abandon_before`.

    An unpaid order whose stock reservation ran out is abandoned too: its
    PaymentIntent is canceled on Stripe and its copies go back (with the cancel).
    """
    order.refresh_from_db()  # a webhook may have moved it since the run started
    abandoned = reservation_expired(order) or (
        abandon_before is not None
        and order.status in ABANDONABLE_STATUSES
        and order.created_at < abandon_before
    )
    status = order.status
    if not order.payment_intent_id:
        if not abandoned:
            return SyncStep(False, f"unchanged ({order.status}, no PaymentIntent yet)")
        if dry_run:
            return SyncStep(True, f"would cancel ({order.status}, abandoned, no PaymentIntent)")
        try:
            order = order_mark_canceled(order=order, cause=f"{CAUSE}: abandoned")
        except OrderTransitionNotAllowed as refused:  # paid or canceled meanwhile
            return _order_step(status, refused.order, changed=False, flagged=False, detail="no PaymentIntent")
        return _order_step(status, order, changed=True, flagged=False, detail="abandoned, no PaymentIntent")
    intent = payment_intent_retrieve(payment_intent_id=order.payment_intent_id)
    outcome = payment_intent_outcome(intent)
    if dry_run:
        verb = "would cancel" if abandoned and outcome in ABANDONED_OUTCOMES else "Stripe says"
        return SyncStep(False, f"{verb} ({order.status}; PaymentIntent {intent['status']})")
    applied = order_apply_payment_intent(order=order, intent=intent, cause=CAUSE)
    order = applied.order
    if abandoned and order.status in ABANDONABLE_STATUSES and outcome in ABANDONED_OUTCOMES:
        intent = payment_intent_cancel_abandoned(payment_intent_id=order.payment_intent_id)
        canceled = order_apply_payment_intent(order=order, intent=intent, cause=f"{CAUSE}: abandoned")
        return _order_step(
            status,
            canceled.order,
            changed=applied.changed or canceled.changed,
            flagged=applied.flagged or canceled.flagged,
            detail=f"abandoned; PaymentIntent {intent['status']}",
        )
    return _order_step(
        status,
        order,
        changed=applied.changed,
        flagged=applied.flagged,
        detail=f"PaymentIntent {intent['status']}",
    )


def payment_intent_cancel_retry(*, order: Order, dry_run: bool = False) -> SyncStep:
    """Cancel on Stripe the PaymentIntent of an order canceled while Stripe could not be reached."""
    if dry_run:
        return SyncStep(False, f"would cancel PaymentIntent {order.payment_intent_id}")
    intent = payment_intent_cancel_for_order(order=order)
    status = intent["status"] if intent else "gone"
    return SyncStep(True, f"PaymentIntent of the canceled order canceled on Stripe ({status})")


def _order_step(status: str, order: Order, *, changed: bool, flagged: bool, detail: str) -> SyncStep:
    """The report line for an order that was `status` when the step began."""
    if not (changed or flagged):
        return SyncStep(False, f"unchanged ({order.status}; {detail})")
    note = ", flagged for review" if flagged else ""
    return SyncStep(True, f"{status} -> {order.status}{note} ({detail})")


def payment_intent_cancel_abandoned(*, payment_intent_id: str) -> dict:
    """Cancel an abandoned PaymentIntent on Stripe; the intent as Stripe has it afterwards.

    If the shopper paid in the meantime Stripe refuses to cancel: the intent
    is read again, so the caller applies the payment instead.
    """
    try:
        return stripe_call(
            "payment_intent.cancel",
            lambda client: client.v1.payment_intents.cancel(payment_intent_id),
        )
    except PaymentRejected:
        intent = payment_intent_retrieve(payment_intent_id=payment_intent_id)
        if intent["status"] in CANCELABLE_INTENT_STATUSES:
            raise
        return intent


def refund_sync(*, refund: Refund, dry_run: bool = False) -> SyncStep:
    if dry_run:
        state = "confirmed" if refund.is_confirmed else "not confirmed by Stripe"
        return SyncStep(False, f"would check ({refund.status}, {state})")
    before = refund.status
    changed = refund_refresh(refund=refund)
    return SyncStep(changed, f"{before} -> {refund.status}" if changed else f"unchanged ({refund.status})")


def webhook_event_replay(*, event: WebhookEvent, dry_run: bool = False) -> SyncStep:
    """Apply a stored event whose apply failed again, now, as its task would (whatever its attempts)."""
    if dry_run:
        return SyncStep(False, "would replay")
    outcome = stripe_event_apply(event_pk=event.pk)
    return SyncStep(outcome != DUPLICATE, f"replayed: {outcome}")


def stripe_health_check() -> str:
    """ "" when Stripe answers a cheap read (one PaymentIntent listed), else why not."""
    try:
        stripe_call("payment_intent.list", lambda client: client.v1.payment_intents.list(params={"limit": 1}))
    except StripeNotConfigured:
        return STRIPE_NOT_CONFIGURED
    except PaymentProviderUnavailable:
        return STRIPE_UNAVAILABLE
    except PaymentRejected:
        return "Stripe refused the request (is STRIPE_SECRET_KEY right?)"
    return ""


STRIPE_NOT_CONFIGURED = "STRIPE_SECRET_KEY is not set"
STRIPE_UNAVAILABLE = "no answer, a 5xx error or rate limiting"


def lost_work_requeue(*, report: Callable[[str], None]) -> None:
    """Enqueue again the tasks lost or failed: webhook events not applied, emails not sent."""
    events = webhook_events_requeue()
    if events:
        report(f"webhook events queued again (task lost, or failed < {MAX_ATTEMPTS} times): {events}")
    emails = order_emails_requeue()
    if emails:
        report(f"emails queued again (failed or lost before): {emails}")


def payments_sync(
    *,
    older_than: timedelta,
    abandon_after: timedelta | None,
    order_number: str | None = None,
    replay_failed_events: bool = False,
    dry_run: bool = False,
    report: Callable[[str], None] = logger.info,
) -> SyncSummary:
    """One reconciliation run: failed events (if asked), unsettled orders, pending refunds.

    Starts by checking that Stripe answers, and stops at the first sign that
    it does not (`summary.aborted` says why).
    """
    summary = SyncSummary()
    # Every run proves Stripe answers, even with nothing to reconcile: a cron
    # job must fail loudly while Stripe (or the key) is broken.
    summary.aborted = stripe_health_check()
    if summary.aborted:
        summary.failed += 1
        report(f"Stripe health check: FAILED, {summary.aborted}; stopping")
        logger.error("sync_payments_stripe_unreachable", extra={"reason": summary.aborted})
        if not dry_run:
            lost_work_requeue(report=report)  # needs no Stripe
        return summary
    abandon_before = timezone.now() - abandon_after if abandon_after else None
    steps: list[tuple[str, Callable[[], SyncStep]]] = []
    if replay_failed_events:
        steps += [
            (f"event {e.stripe_event_id} ({e.type})", partial(webhook_event_replay, event=e, dry_run=dry_run))
            for e in events_to_replay(order_number=order_number)
        ]
    steps += [
        (
            f"order {o.number}",
            partial(order_sync, order=o, abandon_before=abandon_before, dry_run=dry_run),
        )
        for o in orders_to_sync(older_than=older_than, order_number=order_number)
    ]
    steps += [
        (
            f"order {o.number} (canceled)",
            partial(payment_intent_cancel_retry, order=o, dry_run=dry_run),
        )
        for o in orders_payment_intent_cancel_pending(order_number=order_number)
    ]
    steps += [
        (
            f"refund {r.stripe_refund_id or '#' + str(r.pk)} (order {r.order.number})",
            partial(refund_sync, refund=r, dry_run=dry_run),
        )
        for r in refunds_to_sync(older_than=older_than, order_number=order_number)
    ]
    for label, step in steps:
        summary.checked += 1
        try:
            result = step()
        except (PaymentProviderUnavailable, StripeNotConfigured) as exc:
            summary.failed += 1
            summary.aborted = (
                STRIPE_NOT_CONFIGURED if isinstance(exc, StripeNotConfigured) else STRIPE_UNAVAILABLE
            )
            report(f"{label}: FAILED, Stripe unavailable; stopping")
            break
        except Exception as exc:  # one bad record must not stop the others
            summary.failed += 1
            logger.exception("sync_payments_failed", extra={"item": label})
            report(
                f"{label}: FAILED ({exc.message if isinstance(exc, PaymentError) else type(exc).__name__})"
            )
            continue
        summary.changed += result.changed
        report(f"{label}: {result.text}")
    if not dry_run:
        lost_work_requeue(report=report)
    logger.info(
        "sync_payments_done",
        extra={
            "checked": summary.checked,
            "changed": summary.changed,
            "failed": summary.failed,
            "aborted": bool(summary.aborted),
        },
    )
    return summary
