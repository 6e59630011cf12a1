"""Payments' figure on the admin home's sales overview: failed webhook events (shop/orders/sales.py)."""

from django.urls import reverse

from payments.selectors import webhook_events_failed
from shop.orders.sales import Figure


def failed_webhook_events_figure() -> Figure:
    url = reverse("admin:payments_webhookevent_changelist") + "?outcome__exact=failed"
    return Figure(label="Failed webhook events", value=webhook_events_failed().count(), url=url)
