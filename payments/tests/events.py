"""Stripe event payloads shaped like the real ones, for signed webhook tests."""

import itertools
import time

_ids = itertools.count(1)


def payment_intent_object(order, *, status: str = "succeeded", amount=None, currency=None, **extra) -> dict:
    amount = order.total_amount if amount is None else amount
    intent = {
        "id": order.payment_intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency or order.currency,
        "status": status,
        "client_secret": f"{order.payment_intent_id}_secret_test",
        "metadata": {"order_id": str(order.pk), "order_number": order.number},
        "last_payment_error": None,
        "livemode": False,
    }
    intent.update(extra)
    return intent


def stripe_event(
    event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None
) -> dict:
    return {
        "id": event_id or f"evt_test{next(_ids):010d}",
        "object": "event",
        "type": event_type,
        "api_version": "2024-06-20",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "data": {"object": obj},
    }


def payment_intent_event(event_type: str, order, **kwargs) -> dict:
    status = {
        "payment_intent.succeeded": "succeeded",
        "payment_intent.processing": "processing",
        "payment_intent.payment_failed": "requires_payment_method",
        "payment_intent.canceled": "canceled",
    }[event_type]
    if event_type == "payment_intent.payment_failed":
        kwargs.setdefault(
            "last_payment_error", {"code": "card_declined", "message": "Your card was declined."}
        )
    return stripe_event(event_type, payment_intent_object(order, status=status, **kwargs))


def charge_refunded_event(order, *, amount_refunded: int, currency=None) -> dict:
    charge = {
        "id": f"ch_test{next(_ids):08d}",
        "object": "charge",
        "amount": order.total_amount,
        "amount_refunded": amount_refunded,
        "currency": currency or order.currency,
        "payment_intent": order.payment_intent_id,
        "refunded": amount_refunded >= order.total_amount,
    }
    return stripe_event("charge.refunded", charge)


def dispute_object(
    payment_intent_id: str | None,
    *,
    dispute_id: str = "dp_test_1",
    amount: int = 2300,
    currency: str = "usd",
    status: str = "needs_response",
    reason: str = "product_not_received",
    due_by: int | None = None,
    created: int | None = None,
) -> dict:
    """A dispute as Stripe sends it in `charge.dispute.*` events (the parts the shop reads, and more)."""
    created = int(time.time()) if created is None else created
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": "ch_test_disputed",
        "created": created,
        "currency": currency,
        "evidence": {"customer_email_address": None, "shipping_tracking_number": None},
        "evidence_details": {
            "due_by": created + 7 * 86400 if due_by is None else due_by,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment_intent_id,
        "reason": reason,
        "status": status,
    }


def dispute_event(event_type: str, dispute: dict, *, created: int | None = None) -> dict:
    return stripe_event(f"charge.dispute.{event_type}", dispute, created=created)
