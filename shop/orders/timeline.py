"""The order's story as the shopper reads it on their order page: ordered, paid, shipped, delivered.

Built from the order row and its status audit rows (when it was refunded);
nothing is written. Each step is done, current (what happens now) or next
(what will happen); a step that will never happen (a refunded order's
shipping) is left out.
"""

from dataclasses import dataclass
from datetime import datetime

from core.money import format_money
from shop.orders.models import FulfilmentStatus, Order, OrderStatus
from shop.orders.selectors import order_last_moved_to

DONE, CURRENT, NEXT = "done", "current", "next"
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class TimelineStep:
    key: str  # ordered, paid, processing, failed, canceled, shipped, not_to_ship, delivered, refunded
    title: str
    state: str  # DONE, CURRENT or NEXT
    when: datetime | None = None
    detail: str = ""
    # Shipped: the carrier's tracking page, if it has one, and the number.
    tracking_url: str = ""
    tracking_number: str = ""


def order_timeline(*, order: Order) -> list[TimelineStep]:
    steps = [TimelineStep("ordered", "Ordered", DONE, when=order.created_at)]
    steps.extend(_payment_steps(order))
    if order.status in PAID_STATUSES:
        steps.extend(_fulfilment_steps(order))
    if order.amount_refunded:
        steps.append(_refund_step(order))
    return steps


def _payment_steps(order: Order) -> list[TimelineStep]:
    status = order.status
    if status in PAID_STATUSES:
        charged = format_money(order.amount_charged, order.currency)
        return [TimelineStep("paid", "Paid", DONE, when=order.paid_at, detail=f"{charged} received.")]
    if status == OrderStatus.PROCESSING:
        detail = "Your payment is being confirmed. We will email you when it completes."
        return [TimelineStep("processing", "Payment processing", CURRENT, detail=detail)]
    if status == OrderStatus.FAILED:
        detail = order.failure_message or "The payment was declined."
        when = order_last_moved_to(order=order, status=OrderStatus.FAILED)
        return [TimelineStep("failed", "Payment failed", CURRENT, when=when, detail=detail)]
    if status == OrderStatus.CANCELED:
        when = order_last_moved_to(order=order, status=OrderStatus.CANCELED)
        detail = "This order was canceled and will not be charged or shipped."
        return [TimelineStep("canceled", "Canceled", DONE, when=when, detail=detail)]
    # Pending: created, not paid yet.
    return [TimelineStep("paid", "Awaiting payment", CURRENT, detail="This order has not been paid.")]


def _fulfilment_steps(order: Order) -> list[TimelineStep]:
    fulfilment = order.fulfilment_status
    if fulfilment == FulfilmentStatus.NOT_TO_SHIP:
        detail = "The order was refunded before it shipped, so it will not be sent."
        return [TimelineStep("not_to_ship", "Will not ship", DONE, detail=detail)]
    if fulfilment == FulfilmentStatus.UNFULFILLED:
        return [
            TimelineStep(
                "shipped",
                "Shipped",
                CURRENT,
                detail="We are packing your books; we email you when they leave.",
            ),
            TimelineStep("delivered", "Delivered", NEXT),
        ]
    carrier = order.get_carrier_display() if order.carrier else ""
    shipped = TimelineStep(
        "shipped",
        "Shipped",
        DONE,
        when=order.shipped_at,
        detail=f"With {carrier}." if carrier else "",
        tracking_url=order.tracking_url,
        tracking_number=order.tracking_number,
    )
    if fulfilment == FulfilmentStatus.DELIVERED:
        return [shipped, TimelineStep("delivered", "Delivered", DONE, when=order.delivered_at)]
    return [shipped, TimelineStep("delivered", "Delivered", NEXT)]


def _refund_step(order: Order) -> TimelineStep:
    refunded = format_money(order.amount_refunded, order.currency)
    if order.status == OrderStatus.REFUNDED:
        title, detail = "Refunded", f"{refunded} refunded in full."
    else:
        charged = format_money(order.amount_charged, order.currency)
        title, detail = "Partially refunded", f"{refunded} of {charged} refunded."
    when = order_last_moved_to(order=order, status=order.status) if order.status != OrderStatus.PAID else None
    detail += " Refunds reach your card in 5–10 business days."
    return TimelineStep("refunded", title, DONE, when=when, detail=detail)
