"""The success page's truth: the order and its PaymentIntent as Stripe reports it.

Ownership is checked before Stripe is asked: the visitor's session holds the
order, or the client secret they present matches the digest kept on the
order (constant-time compare), so a stranger's guess costs no Stripe call.
Stripe is asked within a page's short budget (STRIPE_PAGE_TIMEOUT_SECONDS, no
retries). When it cannot answer (outage, hang, or it no longer knows the
intent), an outcome the database already knows (paid, refunded, processing,
canceled) is shown from the database; an unknown one (pending, failed) is
shown as "we are confirming your payment", a page that refreshes itself.
"""

import logging
import re
from dataclasses import dataclass

from django.utils.crypto import constant_time_compare

from payments.client_secrets import client_secret_matches
from payments.exceptions import PaymentError
from payments.services.intents import (
    PaymentOutcome,
    order_apply_payment_intent,
    order_paid_after_cancel,
    payment_intent_amount_charged,
    payment_intent_outcome,
    payment_intent_retrieve,
)
from shop.orders.models import Order, OrderStatus
from shop.orders.selectors import order_get_by_payment_intent

logger = logging.getLogger(__name__)

PAYMENT_INTENT_ID = re.compile(r"^pi_[A-Za-z0-9_]{1,250}$")
# What the database alone can tell a shopper, when Stripe cannot be asked.
KNOWN_OUTCOMES = {
    OrderStatus.PAID: PaymentOutcome.SUCCEEDED,
    OrderStatus.PARTIALLY_REFUNDED: PaymentOutcome.SUCCEEDED,
    OrderStatus.REFUNDED: PaymentOutcome.SUCCEEDED,
    OrderStatus.PROCESSING: PaymentOutcome.PROCESSING,
    OrderStatus.CANCELED: PaymentOutcome.CANCELED,
}


class ConfirmationNotFound(Exception):
    """No order to show this visitor (unknown id, or no proof of ownership)."""


# Stripe cannot be asked and the visitor's hold on the order cannot be checked without it.
OUTCOME_UNCHECKED_MESSAGE = (
    "We could not check this payment with our payment provider just now. "
    "If you completed it, you will receive a confirmation email."
)


@dataclass
class Confirmation:
    order: Order
    outcome: PaymentOutcome
    amount_charged: int
    payment_intent_id: str
    from_records: bool = False  # Stripe could not be asked: this is what the database says
    confirming: bool = False  # from the records, which do not know the outcome yet: ask again shortly
    paid_after_cancel: bool = False  # Stripe took the payment after the order was canceled: staff decide


def confirmation_order(*, payment_intent_id: str, client_secret: str, owned_order_ids: list[int]) -> Order:
    """The order behind the success page, or ConfirmationNotFound. Does not call Stripe."""
    if not PAYMENT_INTENT_ID.match(payment_intent_id or ""):
        raise ConfirmationNotFound()
    order = order_get_by_payment_intent(payment_intent_id=payment_intent_id)
    if order is None:
        raise ConfirmationNotFound()
    if order.pk in owned_order_ids:
        return order
    # A client secret is always "<intent id>_secret_<random>": anything else is a guess.
    if not (client_secret or "").startswith(f"{payment_intent_id}_secret_"):
        raise ConfirmationNotFound()
    if order.client_secret_hash and not client_secret_matches(
        client_secret=client_secret, digest=order.client_secret_hash
    ):
        raise ConfirmationNotFound()
    return order


def confirmation_load(*, order: Order, client_secret: str, owned_order_ids: list[int]) -> Confirmation:
    """Retrieve the PaymentIntent, apply its outcome, say what it means for the shopper.

    Raises ConfirmationNotFound when the visitor's ownership is disproved (an
    order kept from before client-secret digests, checked against Stripe's
    copy); a PaymentError when Stripe cannot answer and ownership could not be
    checked without it.
    """
    proven = order.pk in owned_order_ids or client_secret_matches(
        client_secret=client_secret, digest=order.client_secret_hash
    )
    try:
        intent = payment_intent_retrieve(payment_intent_id=order.payment_intent_id, page_view=True)
    except PaymentError as exc:
        if not proven:
            raise
        return _confirmation_from_records(order=order, error=exc)
    if not proven and not constant_time_compare(client_secret, intent.get("client_secret") or ""):
        raise ConfirmationNotFound()
    order = order_apply_payment_intent(order=order, intent=intent, cause="success page").order
    outcome = payment_intent_outcome(intent)
    paid_after_cancel = order_paid_after_cancel(order)  # the page says so: staff refund or fulfil
    flagged = order.needs_review and order.status != OrderStatus.PAID and not paid_after_cancel
    if flagged and outcome == PaymentOutcome.SUCCEEDED:
        outcome = PaymentOutcome.PROCESSING  # flagged for staff: never tell the shopper it is done
    return Confirmation(
        order=order,
        outcome=outcome,
        amount_charged=min(payment_intent_amount_charged(intent), order.total_amount),
        payment_intent_id=intent["id"],
        paid_after_cancel=paid_after_cancel,
    )


def _confirmation_from_records(*, order: Order, error: PaymentError) -> Confirmation:
    paid_after_cancel = order_paid_after_cancel(order)
    outcome = PaymentOutcome.SUCCEEDED if paid_after_cancel else KNOWN_OUTCOMES.get(order.status)
    logger.warning(
        "success_page_from_records",
        extra={"order": order.number, "status": order.status, "error": type(error).__name__},
    )
    return Confirmation(
        order=order,
        outcome=outcome or PaymentOutcome.OPEN,
        amount_charged=min(order.amount_charged, order.total_amount),
        payment_intent_id=order.payment_intent_id,
        from_records=True,
        paid_after_cancel=paid_after_cancel,
        confirming=outcome is None,
    )
