"""Find my orders: one email to an address listing every order placed with it, each with its private link.

The page (`orders_find` in shop/orders/views_find.py) calls
`order_list_email_queue` (shop/orders/tasks.py) for any valid address, the
same way whether or not it placed orders: the claim below, then a task on the
"emails" queue, in one transaction. The task (`order_list_email_deliver`)
looks the orders up and sends only if there are some; a stranger's address
gets nothing, and the page cannot tell the two apart.

At most one such email per address per COOLDOWN: `order_list_email_claim`
takes the address's `OrderListEmail` row with a conditional UPDATE (or
inserts it; the unique key decides between racing requests). It lives in the
database, so it holds across processes, restarts and a cache outage. A
failing mail server makes the task fail (admin Retry); the address can ask
again once its cooldown has passed.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac

from shop.orders.access import order_page_url
from shop.orders.models import FulfilmentStatus, Order, OrderListEmail, OrderStatus
from shop.orders.selectors import orders_placed_with

logger = logging.getLogger(__name__)

COOLDOWN = timedelta(minutes=10)
SUBJECT = "Your orders at Stripe Press"
ADDRESS_KEY_SALT = "shop.orders.order_list_address"

# The payment status as a shopper reads it.
STATUS_WORDS = {
    OrderStatus.PENDING: "Not paid",
    OrderStatus.PROCESSING: "Payment processing",
    OrderStatus.PAID: "Paid",
    OrderStatus.FAILED: "Payment failed",
    OrderStatus.CANCELED: "Canceled",
    OrderStatus.PARTIALLY_REFUNDED: "Partly refunded",
    OrderStatus.REFUNDED: "Refunded",
}


def email_normalised(email: str) -> str:
    """The address as the shop compares it: trimmed, case-insensitive (as orders are looked up)."""
    return email.strip().lower()


def order_list_address_key(*, email: str) -> str:
    """The address's key in OrderListEmail: an HMAC under SECRET_KEY, so the table holds no address."""
    return salted_hmac(ADDRESS_KEY_SALT, email_normalised(email), algorithm="sha256").hexdigest()


def order_list_email_claim(*, email: str) -> bool:
    """Take this address's one email per COOLDOWN; True if it was free (the caller then enqueues).

    Call inside the transaction that enqueues the task, so the claim and the
    task commit together.
    """
    key = order_list_address_key(email=email)
    now = timezone.now()
    stale = OrderListEmail.objects.filter(address_key=key, last_queued_at__lte=now - COOLDOWN)
    if stale.update(last_queued_at=now):
        return True
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the caller's transaction usable
            OrderListEmail.objects.create(address_key=key, last_queued_at=now)
    except IntegrityError:  # asked within the cooldown, or by a concurrent request just now
        return False
    return True


def order_status_words(order: Order) -> str:
    """The order's state in a few words: "Paid", "Paid, shipped", "Refunded"…"""
    words = STATUS_WORDS.get(order.status, order.get_status_display())
    if order.fulfilment_status in (FulfilmentStatus.SHIPPED, FulfilmentStatus.DELIVERED):
        words += f", {order.get_fulfilment_status_display().lower()}"
    return words


def order_list_message(*, email: str, orders: list[Order]) -> EmailMultiAlternatives:
    """The email listing `orders` (text with an HTML alternative), to `email` alone."""
    rows = [
        {"order": order, "status": order_status_words(order), "url": order_page_url(number=order.number)}
        for order in orders
    ]
    context = {"rows": rows, "email": email}
    message = EmailMultiAlternatives(
        subject=SUBJECT,
        body=render_to_string("emails/order_list.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
    )
    message.attach_alternative(render_to_string("emails/order_list.html", context), "text/html")
    return message


def order_list_email_deliver(*, email: str) -> bool:
    """Send `email` the list of its orders if it placed any; True if sent. Prunes ended cooldowns.

    A mail server failure propagates, so the task is recorded as failed.
    """
    OrderListEmail.objects.filter(last_queued_at__lt=timezone.now() - COOLDOWN).delete()
    orders = orders_placed_with(email=email)
    if not orders:
        logger.info("order_list_email_no_orders")
        return False
    order_list_message(email=email, orders=orders).send()
    logger.info("order_list_email_sent", extra={"orders": len(orders)})
    return True
