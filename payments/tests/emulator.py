"""Arranging tests on the emulator: paying PaymentIntents as a shopper would, really paid orders,
refunds made outside the shop, refund events."""

import contextlib
import json
import urllib.parse
import urllib.request

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from payments.stripe_client import stripe_client
from payments.tests.events import stripe_event
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory


def payment_intent_pay(payment_intent_id: str, payment_method: str = "pm_card_visa") -> dict:
    """Confirm a PaymentIntent with a test payment method, as Stripe.js would; the intent afterwards.

    A declined card leaves the intent `requires_payment_method` with its `last_payment_error`.
    """
    client = stripe_client()
    client.v1.payment_intents.update(payment_intent_id, params={"payment_method": payment_method})
    with contextlib.suppress(stripe.CardError):
        client.v1.payment_intents.confirm(payment_intent_id)
    return client.v1.payment_intents.retrieve(payment_intent_id).to_dict()


def payment_intent_on_emulator(
    order: Order, *, payment_method: str | None = "pm_card_visa", attach: bool = True
) -> dict:
    """A PaymentIntent for `order` on the emulator, confirmed with `payment_method` (None: left open)."""
    client = stripe_client()
    intent = client.v1.payment_intents.create(
        params={
            "amount": order.total_amount,
            "currency": order.currency,
            "metadata": {"order_id": str(order.pk), "order_number": order.number},
        }
    )
    if payment_method:
        payment_intent_pay(intent.id, payment_method)
    if attach:
        Order.objects.filter(pk=order.pk).update(payment_intent_id=intent.id)
        order.payment_intent_id = intent.id
    return client.v1.payment_intents.retrieve(intent.id).to_dict()


def paid_order_on_emulator(*, total_amount: int = 2300, currency: str = "usd") -> Order:
    """An order really paid on the emulator (PaymentIntent succeeded) and marked paid here."""
    order = OrderFactory(total_amount=total_amount, currency=currency, payment_intent_id=None)
    intent = payment_intent_on_emulator(order)
    assert intent["status"] == "succeeded", intent
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.PAID, amount_received=total_amount, paid_at=timezone.now()
    )
    order.refresh_from_db()
    return order


def emulator_refunds(payment_intent_id: str) -> list[dict]:
    """The refunds the emulator holds for a PaymentIntent (GET /v1/refunds, not through our code)."""
    query = urllib.parse.urlencode({"payment_intent": payment_intent_id})
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}/v1/refunds?{query}",
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["data"]


def emulator_refund_create(payment_intent_id: str, amount: int, **metadata) -> dict:
    """A refund made outside the shop, as on the Stripe dashboard."""
    params = {"payment_intent": payment_intent_id, "amount": amount}
    if metadata:
        params["metadata"] = metadata
    return stripe_client().v1.refunds.create(params=params).to_dict()


def refund_object(order: Order, *, refund_id: str, amount: int, status: str = "succeeded", **extra) -> dict:
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": order.currency,
        "payment_intent": order.payment_intent_id,
        "charge": "ch_test_refunds",
        "status": status,
        "metadata": {},
    }
    refund.update(extra)
    return refund


def refund_event(event_type: str, refund: dict) -> dict:
    return stripe_event(event_type, refund)


def staff_user(*, username: str = "clerk", can_refund: bool = True):
    """A staff member who can see orders, and (by default) refund them."""
    user = get_user_model().objects.create_user(username=username, password="x", is_staff=True)
    codenames = ["view_order"] + (["refund_order"] if can_refund else [])
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user
