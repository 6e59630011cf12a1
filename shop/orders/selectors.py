"""Order reads, for the orders app and for payments (which never queries Order itself)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q, QuerySet, Sum

from shop.catalog.models import Book
from shop.orders.models import (
    OPEN_CHECKOUT_STATUSES,
    PAYABLE_STATUSES,
    SHIPPABLE_STATUSES,
    FulfilmentStatus,
    Order,
    OrderItem,
    OrderStatus,
)

# The shopper has this book: paid, even if part of it was refunded since.
BOUGHT_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


def order_get_by_number(*, number: str) -> Order | None:
    """The order with this (unique) number, or None."""
    try:
        return Order.objects.get(number=number)
    except Order.DoesNotExist:
        return None


def order_get_by_payment_intent(*, payment_intent_id: str) -> Order | None:
    return Order.objects.filter(payment_intent_id=payment_intent_id).first()


def order_get_by_metadata(*, metadata: dict) -> Order | None:
    """The order named by the `order_id` and `order_number` we put in Stripe metadata.

    Both must match, so a guessed or stale id alone never finds an order.
    """
    order_id = str(metadata.get("order_id") or "")
    if not order_id.isdigit():
        return None
    return Order.objects.filter(pk=int(order_id), number=metadata.get("order_number")).first()


def order_get_for_update(*, order_id: int) -> Order:
    """The order, read again with its row locked. The caller holds a transaction."""
    return Order.objects.select_for_update().get(pk=order_id)


def order_last_moved_to(*, order: Order, status: str) -> datetime | None:
    """When the order last moved to `status` (from its audit rows), or None if it never did."""
    return (
        order.status_changes.filter(to_status=status)
        .exclude(from_status=status)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )


def order_get_open_checkout(*, checkout_key: str) -> Order | None:
    """The shopper's order for this checkout that is payable or being paid."""
    return (
        Order.objects.filter(checkout_key=checkout_key)
        .exclude(checkout_key="")
        .filter(status__in=OPEN_CHECKOUT_STATUSES)
        .first()
    )


@dataclass(frozen=True)
class CheckoutHolds:
    """What the shopper's open order of a checkout holds: copies, and a use of a discount code."""

    copies: dict[int, int]  # {book id: copies} off the shelf
    voucher_id: int | None  # the voucher one of whose uses it holds


def order_checkout_holds(*, checkout_key: str) -> CheckoutHolds:
    """What the shopper's open order of this checkout holds (nothing if none does): one query.

    A retry after a declined card counts these as the shopper's own, not as
    sold: its copies are there for it, and so is its use of the code.
    """
    rows = OrderItem.objects.filter(
        order__checkout_key=checkout_key,
        order__status__in=OPEN_CHECKOUT_STATUSES,
        order__stock_reserved=True,
    ).exclude(order__checkout_key="")
    copies: dict[int, int] = {}
    voucher_id = None
    for book_id, quantity, order_voucher_id, use_held in rows.values_list(
        "book_id", "quantity", "order__voucher_id", "order__voucher_use_held"
    ):
        copies[book_id] = copies.get(book_id, 0) + quantity
        voucher_id = order_voucher_id if use_held else voucher_id
    return CheckoutHolds(copies=copies, voucher_id=voucher_id)


def order_copies_held(*, checkout_key: str) -> dict[int, int]:
    """{book id: copies} off the shelf for the shopper's open order of this checkout ({}: none)."""
    return order_checkout_holds(checkout_key=checkout_key).copies


def order_copies_held_by_address(*, client_address: str, exclude_order_id: int | None = None) -> int:
    """Copies the unpaid orders from this client address hold off the shelf (one besides left out)."""
    held = OrderItem.objects.filter(
        order__client_address=client_address,
        order__status__in=OPEN_CHECKOUT_STATUSES,
        order__stock_reserved=True,
    ).exclude(order_id=exclude_order_id)
    return held.aggregate(copies=Sum("quantity"))["copies"] or 0


def order_voucher_used_by_email(*, voucher_id: int, email: str, exclude_order_id: int) -> bool:
    """Whether another order from this address (in any case) holds a use of the voucher."""
    return (
        Order.objects.filter(voucher_id=voucher_id, voucher_use_held=True, email__iexact=email)
        .exclude(pk=exclude_order_id)
        .exists()
    )


def orders_holding_copies_since(*, held_before: datetime) -> QuerySet[Order]:
    """Unpaid (pending or failed) orders that took their copies before `held_before`, oldest first."""
    return Order.objects.filter(
        status__in=PAYABLE_STATUSES, stock_reserved=True, stock_reserved_at__lt=held_before
    ).order_by("stock_reserved_at")


def orders_unsettled(*, statuses: list[str], created_before: datetime) -> QuerySet[Order]:
    """Orders in `statuses` created before `created_before`, oldest first (reconciliation)."""
    return Order.objects.filter(status__in=statuses, created_at__lt=created_before).order_by("created_at")


def order_bought_in_session(*, order_ids: Iterable[int], book: Book) -> Order | None:
    """The latest of these orders (the ones a shopper session remembers) that paid for `book`."""
    return (
        Order.objects.filter(pk__in=list(order_ids), status__in=BOUGHT_STATUSES, items__book=book)
        .order_by("-paid_at", "-pk")
        .first()
    )


# The order list's filter value (and the admin home's link) for orders waiting to be shipped.
TO_SHIP = "to_ship"
TO_SHIP_CONDITION = Q(fulfilment_status=FulfilmentStatus.UNFULFILLED, status__in=SHIPPABLE_STATUSES)


def orders_to_ship(*, orders: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """Paid (or partly refunded) orders that have not shipped: the warehouse's queue."""
    orders = Order.objects.all() if orders is None else orders
    return orders.filter(TO_SHIP_CONDITION)


@dataclass(frozen=True)
class CustomerTotals:
    orders: int  # every order from the address, paid or not
    paid_by_currency: list[tuple[str, int]]  # (currency, paid less refunded) for paid orders


def order_totals_for_email(*, email: str) -> CustomerTotals:
    """What one customer (an email address, as typed) has ordered and paid: one grouped query."""
    rows = (
        Order.objects.filter(email__iexact=email)
        .values("currency")
        .annotate(
            orders=Count("pk"),
            paid=Sum(
                F("amount_received") - F("amount_refunded"), filter=~Q(paid_at=None) & ~Q(amount_received=0)
            ),
        )
        .order_by("currency")
    )
    return CustomerTotals(
        orders=sum(row["orders"] for row in rows),
        paid_by_currency=[(row["currency"], row["paid"]) for row in rows if row["paid"]],
    )


def orders_payment_intent_cancel_pending(*, order_number: str | None = None) -> QuerySet[Order]:
    """Canceled orders whose PaymentIntent still has to be canceled on Stripe, oldest first."""
    orders = Order.objects.filter(payment_intent_cancel_pending=True).order_by("updated_at")
    return orders.filter(number=order_number) if order_number else orders


def orders_placed_with(*, email: str) -> list[Order]:
    """Every order placed with this address (case-insensitive), newest first ("Find my orders")."""
    return list(Order.objects.filter(email__iexact=email.strip()).order_by("-created_at", "-pk"))
