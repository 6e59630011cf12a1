"""Order writes. Every status change goes through `order_transition`.

Transitions are monotonic: a late or duplicated `processing`/`failed` never
moves a paid order back. Each service locks the order row, so concurrent
webhooks, success pages and staff actions apply one after another.
"""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shop.catalog.models import Book
from shop.orders.emails import CONFIRMATION
from shop.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange
from shop.orders.selectors import order_get_for_update
from shop.orders.tasks import order_email_queue

logger = logging.getLogger(__name__)

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PROCESSING, OrderStatus.PAID, OrderStatus.FAILED, OrderStatus.CANCELED}
    ),
    OrderStatus.PROCESSING: frozenset({OrderStatus.PAID, OrderStatus.FAILED, OrderStatus.CANCELED}),
    OrderStatus.FAILED: frozenset({OrderStatus.PROCESSING, OrderStatus.PAID, OrderStatus.CANCELED}),
    OrderStatus.PAID: frozenset({OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}),
    OrderStatus.PARTIALLY_REFUNDED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.REFUNDED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
}


class OrderTransitionNotAllowed(Exception):
    """The order may not move from its current status to the one asked for.

    Nothing was changed. `order` is the order as it is now (locked by the
    caller's transaction), so a caller that expects late or duplicated news
    (a webhook arriving after the payment) can carry on with it.
    """

    def __init__(self, *, order: Order, to_status: str):
        self.order, self.from_status, self.to_status = order, order.status, to_status
        super().__init__(f"Order {order.number} cannot move from {order.status} to {to_status}.")


def order_can_transition(*, from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS[from_status]


def _order_lock(order: Order) -> Order:
    return order_get_for_update(order_id=order.pk)


@transaction.atomic
def order_create(*, book: Book, email: str, checkout_key: str = "", quantity: int = 1) -> Order:
    """A pending order for `quantity` of `book`, priced from the database."""
    order = Order.objects.create(
        email=email,
        currency=book.currency,
        total_amount=book.price_amount * quantity,
        checkout_key=checkout_key,
    )
    OrderItem.objects.create(
        order=order, book=book, title=book.title, unit_amount=book.price_amount, quantity=quantity
    )
    OrderStatusChange.objects.create(order=order, from_status="", to_status=order.status, cause="checkout")
    return order


def _order_apply(locked: Order, *, to_status: str, cause: str, **fields) -> bool:
    """Apply a move to an order the caller has locked (see `order_transition`).

    Returns False, changing nothing, when the move is not allowed: the caller
    raises OrderTransitionNotAllowed once out of its atomic block (raising
    through `atomic(savepoint=False)` would doom the caller's transaction).
    """
    from_status = locked.status
    if to_status != from_status and not order_can_transition(from_status=from_status, to_status=to_status):
        logger.info(
            "order_transition_refused",
            extra={
                "order": locked.number,
                "from_status": from_status,
                "to_status": to_status,
                "cause": cause,
            },
        )
        return False
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.status = to_status
    locked.save()
    if to_status != from_status:
        OrderStatusChange.objects.create(
            order=locked, from_status=from_status, to_status=to_status, cause=cause[:255]
        )
        logger.info(
            "order_transition",
            extra={
                "order": locked.number,
                "from_status": from_status,
                "to_status": to_status,
                "cause": cause,
            },
        )
    return True


def order_transition(*, order: Order, to_status: str, cause: str, **fields) -> Order:
    """Move `order` to `to_status`, saving `fields` with it; returns the locked, current order.

    A move that is not allowed (a regression, or out of a final state)
    changes nothing and raises OrderTransitionNotAllowed. Staying in the same
    status saves `fields` without an audit row.
    """
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        moved = _order_apply(current, to_status=to_status, cause=cause, **fields)
    if not moved:
        raise OrderTransitionNotAllowed(order=current, to_status=to_status)
    return current


def order_mark_processing(*, order: Order, cause: str) -> Order:
    return order_transition(order=order, to_status=OrderStatus.PROCESSING, cause=cause)


def order_mark_paid(*, order: Order, amount_received: int, cause: str) -> Order:
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        if current.status == OrderStatus.PAID or current.paid_at is not None:
            return current  # already paid: nothing to redo (its confirmation was queued then)
        moved = _order_apply(
            current,
            to_status=OrderStatus.PAID,
            cause=cause,
            amount_received=amount_received,
            paid_at=timezone.now(),
            failure_message="",
        )
        if moved:
            # In this transaction: the email task commits (or rolls back) with the payment.
            order_email_queue(order=current, kind=CONFIRMATION)
    if not moved:  # canceled
        raise OrderTransitionNotAllowed(order=current, to_status=OrderStatus.PAID)
    return current


def order_mark_failed(*, order: Order, message: str, cause: str) -> Order:
    return order_transition(order=order, to_status=OrderStatus.FAILED, cause=cause, failure_message=message)


def order_mark_canceled(*, order: Order, cause: str) -> Order:
    return order_transition(order=order, to_status=OrderStatus.CANCELED, cause=cause)


def order_record_refunded_total(*, order: Order, amount_refunded: int, cause: str) -> Order:
    """Set the total refunded so far, as Stripe reports it (never decreasing).

    Stripe reports the cumulative amount, so applying the same report twice
    (API answer, then webhook) cannot double count.
    """
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        total = min(max(current.amount_refunded, amount_refunded), current.total_amount)
        if total == current.amount_refunded or total == 0:
            return current
        to_status = (
            OrderStatus.REFUNDED if total >= current.amount_charged else OrderStatus.PARTIALLY_REFUNDED
        )
        moved = _order_apply(current, to_status=to_status, cause=cause, amount_refunded=total)
    if not moved:  # never paid here (canceled, pending…): Stripe's refund is not recorded on it
        raise OrderTransitionNotAllowed(order=current, to_status=to_status)
    return current


def order_flag_for_review(*, order: Order, reason: str, cause: str) -> Order:
    """Mark an order for staff attention (e.g. Stripe's amount differs from ours)."""
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        if current.needs_review and reason in current.review_reason:
            return current  # the same report again (a refresh, a redelivery)
        current.needs_review = True
        current.review_reason = f"{current.review_reason}\n{reason}".strip()
        current.save(update_fields=["needs_review", "review_reason", "updated_at"])
        logger.warning("order_flagged", extra={"order": current.number, "reason": reason, "cause": cause})
    return current


def order_attach_payment_intent(*, order: Order, payment_intent_id: str) -> Order:
    """Link the order to its PaymentIntent, once; returns the order.

    One conditional UPDATE (it takes the row lock, and waits for whoever
    holds it): it links the id only while the order has none, so two
    requests can never link two different intents. Linking a second,
    different one raises ValueError and changes nothing.
    """
    unlinked = Q(payment_intent_id__isnull=True) | Q(payment_intent_id="")
    linked = Order.objects.filter(unlinked, pk=order.pk).update(
        payment_intent_id=payment_intent_id, updated_at=timezone.now()
    )
    if not linked:
        current = Order.objects.only("payment_intent_id").get(pk=order.pk).payment_intent_id
        if current != payment_intent_id:
            raise ValueError(f"Order {order.number} is already paid through {current}.")
    order.payment_intent_id = payment_intent_id
    return order


def order_update_email(*, order: Order, email: str, cause: str) -> Order:
    """Change where the order's emails go (the shopper corrected it), with an audit row."""
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        if current.email == email:
            return current
        previous, current.email = current.email, email
        current.save(update_fields=["email", "updated_at"])
        OrderStatusChange.objects.create(
            order=current,
            from_status=current.status,
            to_status=current.status,
            cause=f"{cause}: email changed from {previous}"[:255],
        )
    logger.info("order_email_changed", extra={"order": current.number, "cause": cause})
    return current
