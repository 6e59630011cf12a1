"""The success page's truth: the order and its PaymentIntent as Stripe reports it."""

import re
from dataclasses import dataclass

from django.utils.crypto import constant_time_compare

from payments.services.intents import (
    PaymentOutcome,
    order_apply_payment_intent,
    payment_intent_amount_charged,
    payment_intent_outcome,
    payment_intent_retrieve,
)
from shop.orders.models import Order, OrderStatus
from shop.orders.selectors import order_get_by_payment_intent

PAYMENT_INTENT_ID = re.compile(r"^pi_[A-Za-z0-9_]{1,250}$")


class ConfirmationNotFound(Exception):
    """No order to show this visitor (unknown id, or no proof of ownership)."""


@dataclass
class Confirmation:
    order: Order
    outcome: PaymentOutcome
    amount_charged: int
    payment_intent_id: str


def confirmation_order(*, payment_intent_id: str, client_secret: str, owned_order_ids: list[int]) -> Order:
    """The order behind the success page, or ConfirmationNotFound. Does not call Stripe."""
    if not PAYMENT_INTENT_ID.match(payment_intent_id or ""):
        raise ConfirmationNotFound()
    order = order_get_by_payment_intent(payment_intent_id=payment_intent_id)
    if order is None or (order.pk not in owned_order_ids and not client_secret):
        raise ConfirmationNotFound()
    return order


def confirmation_load(*, order: Order, client_secret: str, owned_order_ids: list[int]) -> Confirmation:
    """Retrieve the PaymentIntent, prove the visitor may see it, apply its outcome.

    Raises ConfirmationNotFound when the visitor neither owns the order's
    session nor presents the intent's client secret; PaymentError when Stripe
    cannot be reached.
    """
    intent = payment_intent_retrieve(payment_intent_id=order.payment_intent_id)
    owns = order.pk in owned_order_ids
    if not owns and not constant_time_compare(client_secret, intent.get("client_secret") or ""):
        raise ConfirmationNotFound()
    order = order_apply_payment_intent(order=order, intent=intent, cause="success page").order
    outcome = payment_intent_outcome(intent)
    if order.needs_review and outcome == PaymentOutcome.SUCCEEDED and order.status != OrderStatus.PAID:
        outcome = PaymentOutcome.PROCESSING  # flagged for staff: never tell the shopper it is done
    return Confirmation(
        order=order,
        outcome=outcome,
        amount_charged=payment_intent_amount_charged(intent),
        payment_intent_id=intent["id"],
    )
