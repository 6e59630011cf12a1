"""Copies held by unpaid orders go back on the shelf once the hold runs out.

An unpaid (pending or failed) order that has held its copies longer than
STOCK_RESERVATION_MINUTES is read from Stripe and applied as sync_payments
would (a payment that went through is kept, never canceled), then canceled
with its PaymentIntent, its copies back on hand. When Stripe cannot be
reached the order is canceled all the same and the rest of the run asks
Stripe nothing: the copies never wait for Stripe, and sync_payments cancels
those PaymentIntents later (`payment_intent_cancel_pending`).

`manage.py release_expired_holds` runs it; the scheduler runs that every
minute. Safe to repeat and to overlap with webhooks: each change locks the
order row.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from payments.exceptions import PaymentProviderUnavailable, StripeNotConfigured
from payments.services.reconciliation import order_sync
from shop.orders.selectors import orders_holding_copies_since
from shop.orders.services import OrderTransitionNotAllowed, order_mark_canceled

logger = logging.getLogger(__name__)

CAUSE = "stock reservation expired"


def holds_release_expired(*, report: Callable[[str], None] = logger.info) -> int:
    """Release every hold older than STOCK_RESERVATION_MINUTES; how many orders were looked at."""
    held_before = timezone.now() - timedelta(minutes=settings.STOCK_RESERVATION_MINUTES)
    orders = list(orders_holding_copies_since(held_before=held_before))
    stripe_answers = True
    for order in orders:
        if stripe_answers:
            try:
                report(f"order {order.number}: {order_sync(order=order).text}")
                continue
            except (PaymentProviderUnavailable, StripeNotConfigured):
                stripe_answers = False
            except Exception:  # one bad order (Stripe no longer knows its intent…) must not keep the others
                logger.exception("hold_release_failed", extra={"order": order.number})
        report(f"order {order.number}: {_cancel_without_stripe(order)}")
    return len(orders)


def _cancel_without_stripe(order) -> str:
    try:
        order_mark_canceled(order=order, cause=f"{CAUSE} (Stripe unreachable)", cancel_payment_intent=True)
    except OrderTransitionNotAllowed as refused:  # paid or canceled meanwhile
        return f"unchanged ({refused.order.status})"
    logger.warning("hold_released_without_stripe", extra={"order": order.number})
    return "canceled, copies back; its PaymentIntent is left to sync_payments (Stripe unreachable)"
