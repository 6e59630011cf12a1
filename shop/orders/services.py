"""Order writes. Every status change goes through `order_transition`.

Transitions are monotonic: a late or duplicated `processing`/`failed` never
moves a paid order back. Each service locks the order row, so concurrent
webhooks, success pages and staff actions apply one after another.
"""

import hashlib
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from shop.cart.pricing import totals_compute
from shop.cart.services import cart_clear
from shop.catalog.exceptions import OutOfStock
from shop.catalog.models import Book
from shop.catalog.services import book_stock_release, book_stock_reserve_lines
from shop.orders.carriers import carrier_tracking_url
from shop.orders.emails import CONFIRMATION, SHIPPED, refunded_kind
from shop.orders.models import (
    SHIPPABLE_STATUSES,
    DisputeStatus,
    FulfilmentChange,
    FulfilmentStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
)
from shop.orders.selectors import (
    order_copies_held_by_address,
    order_get_for_update,
    order_voucher_used_by_email,
)
from shop.orders.shipping import ShippingAddress
from shop.orders.tasks import order_email_queue
from shop.vouchers.exceptions import RefusalReason, VoucherRefused
from shop.vouchers.models import Voucher
from shop.vouchers.services import voucher_take_refused, voucher_use_return, voucher_use_take

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
def order_create(
    *,
    lines: Sequence[tuple[Book, int]],
    email: str,
    shipping: ShippingAddress | None = None,
    checkout_key: str = "",
    cart_id: int | None = None,
    client_address: str = "",
    voucher: Voucher | None = None,
) -> Order:
    """A pending order for (book, quantity) lines, priced from the database, shipping included.

    Every line's book must be in one currency (the cart enforces it).
    `client_address` is where the checkout came from (see order_stock_reserve).
    `voucher`, checked by the caller, takes its discount off the books; a use
    of it is taken with the order's PaymentIntent (order_voucher_use_take).
    """
    if not lines:
        raise ValueError("an order needs at least one line")
    currencies = {book.currency for book, _ in lines}
    if len(currencies) != 1:
        raise ValueError(f"an order is in one currency, not {sorted(currencies)}")
    totals = totals_compute(
        lines=[(book.price_amount, quantity) for book, quantity in lines], voucher=voucher
    )
    order = Order.objects.create(
        email=email,
        currency=currencies.pop(),
        total_amount=totals.total_amount,
        shipping_amount=totals.shipping_amount,
        voucher=totals.voucher,
        voucher_code=totals.voucher_code,
        discount_amount=totals.discount_amount,
        checkout_key=checkout_key,
        cart_id=cart_id,
        client_address=client_address[: Order._meta.get_field("client_address").max_length],
        **(shipping.order_fields() if shipping else {}),
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, book=book, title=book.title, unit_amount=book.price_amount, quantity=quantity)
        for book, quantity in lines
    )
    OrderStatusChange.objects.create(order=order, from_status="", to_status=order.status, cause="checkout")
    return order


def order_quantities(*, order: Order) -> dict[int, int]:
    """{book id: copies} of the order's lines."""
    quantities: dict[int, int] = {}
    for book_id, quantity in order.items.values_list("book_id", "quantity"):
        quantities[book_id] = quantities.get(book_id, 0) + quantity
    return quantities


class UnpaidCopiesLimit(Exception):
    """The order's client address already holds as many copies in unpaid orders as one may. Nothing taken."""

    def __init__(self, *, limit: int, held: int):
        self.limit, self.held = limit, held
        self.message = (
            f"Unpaid orders from your address already hold {held} of the {limit} copies one address "
            "may hold at once. Pay for them, or try again once they are released."
        )
        super().__init__(self.message)


def order_stock_reserve(*, order: Order) -> Order:
    """Take the order's copies off the shelf, once; raises OutOfStock (nothing taken) when short.

    Raises UnpaidCopiesLimit (nothing taken) when the unpaid orders of the
    order's client address would then hold more than UNPAID_COPIES_PER_CLIENT
    copies. Runs inside the caller's transaction (the one that creates the
    PaymentIntent), so a failure there gives the copies back too.
    """
    with transaction.atomic():
        current = _order_lock(order)
        if current.stock_reserved:
            return current
        quantities = order_quantities(order=current)
        _unpaid_copies_check(current, copies=sum(quantities.values()))
        book_stock_reserve_lines(quantities=quantities)
        current.stock_reserved, current.stock_reserved_at = True, timezone.now()
        current.save(update_fields=["stock_reserved", "stock_reserved_at", "updated_at"])
    logger.info("order_stock_reserved", extra={"order": current.number})
    return current


def _unpaid_copies_check(order: Order, *, copies: int) -> None:
    """Refuse copies past UNPAID_COPIES_PER_CLIENT for the order's address (0: no limit).

    The address is locked for the caller's transaction first (PostgreSQL; SQLite
    runs one writer at a time), so concurrent checkouts from one address are
    counted one after another, never both under the limit.
    """
    limit = settings.UNPAID_COPIES_PER_CLIENT
    if not limit or not order.client_address:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_address_lock_id(order.client_address)])
    held = order_copies_held_by_address(client_address=order.client_address, exclude_order_id=order.pk)
    if held + copies > limit:
        logger.warning(
            "order_unpaid_copies_limit",
            extra={"order": order.number, "held": held, "copies": copies, "limit": limit},
        )
        raise UnpaidCopiesLimit(limit=limit, held=held)


def _address_lock_id(address: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory lock on one client address."""
    digest = hashlib.sha256(f"unpaid-copies:{address}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def order_stock_release(*, order: Order, cause: str) -> bool:
    """Put the order's copies back on hand if it still holds them; True if it did (exactly once)."""
    with transaction.atomic():
        current = _order_lock(order)
        if not current.stock_reserved:
            return False
        for book_id, quantity in order_quantities(order=current).items():
            book_stock_release(book_id=book_id, quantity=quantity)
        current.stock_reserved = False
        current.save(update_fields=["stock_reserved", "updated_at"])
    logger.info("order_stock_released", extra={"order": current.number, "cause": cause})
    return True


def order_voucher_use_take(*, order: Order) -> Order:
    """Take one use of the order's discount code, once (nothing to take without a code).

    One conditional UPDATE of the voucher row (shop/vouchers/services.py), in
    the caller's transaction (the one that reserves the copies and creates the
    PaymentIntent). Raises VoucherRefused, taking nothing, when the code is used
    up, no longer valid, or once per email and held by another order from this
    address: that check runs with the voucher row locked by the UPDATE, so two
    checkouts from one address cannot both pass it.
    """
    if order.voucher_id is None:  # set when the order is created, never changed: no lock needed
        return order
    with transaction.atomic():
        current = _order_lock(order)
        if current.voucher_id is None or current.voucher_use_held:
            return current
        if not voucher_use_take(voucher_id=current.voucher_id):
            raise voucher_take_refused(voucher_id=current.voucher_id)
        voucher = current.voucher
        if voucher.once_per_email and order_voucher_used_by_email(
            voucher_id=voucher.pk, email=current.email, exclude_order_id=current.pk
        ):
            raise VoucherRefused(
                f"The discount code {voucher.code} has already been used with this email address.",
                reason=RefusalReason.USED_BY_EMAIL,
                code=voucher.code,
            )
        current.voucher_use_held = True
        current.save(update_fields=["voucher_use_held", "updated_at"])
    logger.info("order_voucher_use_taken", extra={"order": current.number, "voucher": current.voucher_code})
    return current


def order_voucher_use_return(*, order: Order, cause: str) -> bool:
    """Give the order's use of its discount code back if it holds one; True if it did (exactly once)."""
    with transaction.atomic():
        current = _order_lock(order)
        if not current.voucher_use_held:
            return False
        if current.voucher_id is not None:
            voucher_use_return(voucher_id=current.voucher_id)
        current.voucher_use_held = False
        current.save(update_fields=["voucher_use_held", "updated_at"])
    order.voucher_use_held = False
    logger.info(
        "order_voucher_use_returned",
        extra={"order": current.number, "voucher": current.voucher_code, "cause": cause},
    )
    return True


OUT_OF_STOCK_AFTER_PAYMENT = "Paid but out of stock: refund or restock."


def _order_take_stock_once_paid(current: Order, *, cause: str) -> None:
    """A payment arrived for an order whose copies went back: take them again, or flag it.

    The caller holds the order's row lock. An order that never reserved
    (made before reservations existed, or by staff) is left alone. A use of
    its discount code given back with the cancel is counted again, whatever
    the code's limits: the shopper paid the discounted price.
    """
    if current.voucher_id is not None and not current.voucher_use_held and current.stock_reserved_at:
        voucher_use_take(voucher_id=current.voucher_id, within_limits=False)
        current.voucher_use_held = True
    if current.stock_reserved or current.stock_reserved_at is None:
        return
    try:
        with transaction.atomic():
            book_stock_reserve_lines(quantities=order_quantities(order=current))
    except OutOfStock as short:
        current.needs_review = True
        reason = f"{OUT_OF_STOCK_AFTER_PAYMENT} ({short.message})"
        current.review_reason = f"{current.review_reason}\n{reason}".strip()
        logger.warning("order_flagged", extra={"order": current.number, "reason": reason, "cause": cause})
        return
    current.stock_reserved, current.stock_reserved_at = True, timezone.now()


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
        if order_can_transition(from_status=current.status, to_status=OrderStatus.PAID):
            _order_take_stock_once_paid(current, cause=cause)
        moved = _order_apply(
            current,
            to_status=OrderStatus.PAID,
            cause=cause,
            amount_received=amount_received,
            paid_at=timezone.now(),
            failure_message="",
        )
        if moved:
            if current.cart_id:
                cart_clear(cart_id=current.cart_id)
            # In this transaction: the email task commits (or rolls back) with the payment.
            order_email_queue(order=current, kind=CONFIRMATION)
    if not moved:  # canceled
        raise OrderTransitionNotAllowed(order=current, to_status=OrderStatus.PAID)
    return current


def order_mark_failed(*, order: Order, message: str, cause: str) -> Order:
    return order_transition(order=order, to_status=OrderStatus.FAILED, cause=cause, failure_message=message)


def order_mark_canceled(*, order: Order, cause: str, cancel_payment_intent: bool = False) -> Order:
    """Cancel the order and put its copies back on hand.

    `cancel_payment_intent`: we gave up on it (not Stripe), so its PaymentIntent
    must be canceled on Stripe too; `payment_intent_cancel_pending` says so
    until `order_payment_intent_cancel_done`.
    """
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        pending = cancel_payment_intent and bool(current.payment_intent_id)
        moved = _order_apply(
            current, to_status=OrderStatus.CANCELED, cause=cause, payment_intent_cancel_pending=pending
        )
        if moved:
            order_stock_release(order=current, cause=cause)
            order_voucher_use_return(order=current, cause=cause)
            current.refresh_from_db()
    if not moved:
        raise OrderTransitionNotAllowed(order=current, to_status=OrderStatus.CANCELED)
    return current


def order_payment_intent_cancel_done(*, order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(payment_intent_cancel_pending=False, updated_at=timezone.now())
    order.payment_intent_cancel_pending = False


def order_record_refunded_total(*, order: Order, amount_refunded: int, cause: str) -> Order:
    """Set the total refunded so far, as Stripe reports it (never decreasing).

    Stripe reports the cumulative amount, so applying the same report twice
    (API answer, then webhook) cannot double count.
    """
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        before = current.amount_refunded
        total = min(max(before, amount_refunded), current.total_amount)
        if total == before or total == 0:
            return current
        to_status = (
            OrderStatus.REFUNDED if total >= current.amount_charged else OrderStatus.PARTIALLY_REFUNDED
        )
        moved = _order_apply(current, to_status=to_status, cause=cause, amount_refunded=total)
        if moved:
            # One email per growth of the total: a report seen twice (API answer, then
            # webhook) does not grow it, so it sends nothing more.
            order_email_queue(order=current, kind=refunded_kind(from_total=before, to_total=total))
        if moved and to_status == OrderStatus.REFUNDED:
            _order_not_to_ship(current, cause=cause)
    if not moved:  # never paid here (canceled, pending…): Stripe's refund is not recorded on it
        raise OrderTransitionNotAllowed(order=current, to_status=to_status)
    return current


def order_record_payment_card(*, order: Order, brand: str, last4: str) -> bool:
    """Keep the card's brand and last 4 digits for the receipt, once; True if recorded now.

    Plain values from whoever read them off Stripe's payment; a card already on
    record is kept (one conditional UPDATE, no lock needed).
    """
    brand, last4 = (brand or "")[:20], (last4 or "")
    if not (len(last4) == 4 and last4.isdigit()):
        return False
    recorded = Order.objects.filter(pk=order.pk, card_last4="").update(
        card_brand=brand, card_last4=last4, updated_at=timezone.now()
    )
    if recorded:
        order.card_brand, order.card_last4 = brand, last4
    return bool(recorded)


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


def order_attach_payment_intent(
    *, order: Order, payment_intent_id: str, client_secret_hash: str = ""
) -> Order:
    """Link the order to its PaymentIntent, once; returns the order.

    One conditional UPDATE (it takes the row lock, and waits for whoever
    holds it): it links the id only while the order has none, so two
    requests can never link two different intents. Linking a second,
    different one raises ValueError and changes nothing. `client_secret_hash`
    (a digest made by the caller, which knows the secret) is stored with it.
    """
    unlinked = Q(payment_intent_id__isnull=True) | Q(payment_intent_id="")
    linked = Order.objects.filter(unlinked, pk=order.pk).update(
        payment_intent_id=payment_intent_id, client_secret_hash=client_secret_hash, updated_at=timezone.now()
    )
    if not linked:
        current = Order.objects.only("payment_intent_id").get(pk=order.pk).payment_intent_id
        if current != payment_intent_id:
            raise ValueError(f"Order {order.number} is already paid through {current}.")
    order.payment_intent_id = payment_intent_id
    if linked:
        order.client_secret_hash = client_secret_hash
    return order


def order_stock_take_after_cancel(*, order: Order, cause: str) -> Order:
    """Stripe took a payment for a canceled order: hold its copies for staff, or flag it."""
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        _order_take_stock_once_paid(current, cause=cause)
        current.save()
    return current


def order_update_shipping(*, order: Order, shipping: ShippingAddress, cause: str) -> Order:
    """Change where the books go (the shopper corrected the address before paying), with an audit row."""
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        if ShippingAddress.of_order(current) == shipping:
            return current
        for name, value in shipping.order_fields().items():
            setattr(current, name, value)
        current.save()
        OrderStatusChange.objects.create(
            order=current,
            from_status=current.status,
            to_status=current.status,
            cause=f"{cause}: shipping address changed"[:255],
        )
    logger.info("order_shipping_changed", extra={"order": current.number, "cause": cause})
    return current


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


def order_mark_disputed(*, order: Order, dispute_status: str, cause: str) -> Order:
    """Record where the order's disputes stand (a DisputeStatus), with an audit row when it changes.

    The payments app works the status out from every dispute of the order's
    payment and calls this in the transaction that records the dispute; the
    order row is locked here. The same status again changes nothing.
    """
    if dispute_status not in DisputeStatus.values:
        raise ValueError(f"Unknown dispute status {dispute_status!r}.")
    with transaction.atomic(savepoint=False):
        current = _order_lock(order)
        if current.dispute_status == dispute_status:
            return current
        previous, current.dispute_status = current.get_dispute_status_display(), dispute_status
        current.save(update_fields=["dispute_status", "updated_at"])
        OrderStatusChange.objects.create(
            order=current,
            from_status=current.status,
            to_status=current.status,
            cause=f"{cause}: {previous} -> {current.get_dispute_status_display()}"[:255],
        )
    logger.warning(
        "order_dispute_changed", extra={"order": current.number, "dispute": dispute_status, "cause": cause}
    )
    return current


# --- fulfilment -----------------------------------------------------------------------------
# Beside the payment status: unfulfilled -> shipped -> delivered (optional), or
# unfulfilled -> not to ship when the whole payment is refunded before shipping.

FULFILMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    FulfilmentStatus.UNFULFILLED: frozenset({FulfilmentStatus.SHIPPED, FulfilmentStatus.NOT_TO_SHIP}),
    FulfilmentStatus.SHIPPED: frozenset({FulfilmentStatus.DELIVERED}),
    FulfilmentStatus.DELIVERED: frozenset(),
    FulfilmentStatus.NOT_TO_SHIP: frozenset(),
}


class FulfilmentNotAllowed(Exception):
    """The order's parcel may not move as asked (unpaid, refunded, shipped already…). Nothing changed.

    `message` is a sentence staff can read.
    """

    def __init__(self, *, order: Order, to_status: str, message: str):
        self.order, self.from_status, self.to_status, self.message = (
            order,
            order.fulfilment_status,
            to_status,
            message,
        )
        super().__init__(message)


def _fulfilment_apply(locked: Order, *, to_status: str, cause: str, user=None, **fields) -> None:
    from_status = locked.fulfilment_status
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.fulfilment_status = to_status
    locked.save(update_fields=["fulfilment_status", *fields, "updated_at"])
    FulfilmentChange.objects.create(
        order=locked, from_status=from_status, to_status=to_status, cause=cause[:255], changed_by=user
    )
    logger.info(
        "order_fulfilment_changed",
        extra={"order": locked.number, "from_status": from_status, "to_status": to_status, "cause": cause},
    )


def _order_not_to_ship(locked: Order, *, cause: str) -> None:
    """A fully refunded order that has not left is not shipped (called with the row locked)."""
    if locked.fulfilment_status == FulfilmentStatus.UNFULFILLED:
        _fulfilment_apply(locked, to_status=FulfilmentStatus.NOT_TO_SHIP, cause=f"refunded: {cause}")


def _staff_cause(user) -> str:
    return f"staff {user.get_username()}" if user is not None else "staff"


def order_mark_shipped(
    *, order: Order, carrier: str, tracking_number: str, user, ship_disputed: bool = False
) -> Order:
    """Record that the order's parcel left with `carrier`; returns the locked, current order.

    Only a paid (or partially refunded) order that has not shipped may ship,
    and a disputed one only with `ship_disputed` (staff confirmed it: the
    books may be lost with the money). The same shipment again (a
    double-clicked button, a retried request) changes nothing and returns the
    order; a different one raises FulfilmentNotAllowed, as does any order
    that may not ship.
    """
    with transaction.atomic():
        current = _order_lock(order)
        already = current.fulfilment_status in (FulfilmentStatus.SHIPPED, FulfilmentStatus.DELIVERED)
        if already and (current.carrier, current.tracking_number) == (carrier, tracking_number):
            return current
        refusal = _ship_refusal(current, ship_disputed=ship_disputed)
        if refusal is None:
            _fulfilment_apply(
                current,
                to_status=FulfilmentStatus.SHIPPED,
                cause=_staff_cause(user),
                user=user,
                carrier=carrier,
                tracking_number=tracking_number,
                tracking_url=carrier_tracking_url(carrier=carrier, tracking_number=tracking_number),
                shipped_at=timezone.now(),
                shipped_by=user,
            )
            # In this transaction, once: the same shipment again returned above.
            order_email_queue(order=current, kind=SHIPPED)
    if refusal is not None:
        raise FulfilmentNotAllowed(order=current, to_status=FulfilmentStatus.SHIPPED, message=refusal)
    return current


def _ship_refusal(order: Order, *, ship_disputed: bool) -> str | None:
    """Why `order` may not ship now, or None."""
    if order.fulfilment_status != FulfilmentStatus.UNFULFILLED:
        return f"Order {order.number} is {order.get_fulfilment_status_display().lower()} already."
    if order.status not in SHIPPABLE_STATUSES:
        return f"Order {order.number} is {order.get_status_display().lower()}: only paid orders ship."
    if order.is_disputed and not ship_disputed:
        return f"{order_dispute_warning(order)} Confirm to ship it all the same."
    return None


def order_dispute_warning(order: Order) -> str:
    """What staff about to ship a disputed order are told."""
    return (
        f"Order {order.number}'s payment is disputed ({order.get_dispute_status_display().lower()}): "
        "the books may be lost along with the money."
    )


def order_mark_delivered(*, order: Order, user) -> Order:
    """Record that a shipped parcel arrived; doing it twice changes nothing. Else FulfilmentNotAllowed."""
    with transaction.atomic():
        current = _order_lock(order)
        status = current.fulfilment_status
        if status == FulfilmentStatus.SHIPPED:
            _fulfilment_apply(
                current,
                to_status=FulfilmentStatus.DELIVERED,
                cause=_staff_cause(user),
                user=user,
                delivered_at=timezone.now(),
            )
    if status not in (FulfilmentStatus.SHIPPED, FulfilmentStatus.DELIVERED):
        raise FulfilmentNotAllowed(
            order=current,
            to_status=FulfilmentStatus.DELIVERED,
            message=f"Order {current.number} has not shipped: it cannot be delivered.",
        )
    return current
