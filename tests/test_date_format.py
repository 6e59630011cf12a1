"""Dates are written one way on every page: "6 December 2026", "6 December 2026, 14:05" (config/formats)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from payments.tests.factories import RefundFactory
from shop.orders.access import order_page_path, order_receipt_path
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 12, 6, 14, 5, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def order():
    order = OrderFactory(
        status=OrderStatus.PAID, amount_received=2300, shipping_line1="x", shipping_country="GB"
    )
    Order.objects.filter(pk=order.pk).update(created_at=PLACED, paid_at=PLACED)
    order.refresh_from_db()
    return order


def test_shopper_pages_write_the_date_one_way(client, order):
    for path in (order_page_path(number=order.number), order_receipt_path(number=order.number)):
        page = client.get(path).content.decode()
        assert "6 December 2026" in page, path
        assert "Dec. 6" not in page


def test_admin_pages_write_it_the_same_way(admin_client, order):
    RefundFactory(order=order, amount=500)
    from payments.models import Refund

    Refund.objects.update(created_at=PLACED)
    for name in ("admin:orders_order_change", "admin:orders_order_refund", "admin:orders_order_ship"):
        page = admin_client.get(reverse(name, args=[order.pk])).content.decode()
        assert "6 December 2026" in page, name
        assert "Dec. 6, 2026" not in page and "p.m." not in page, name
    listing = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "6 Dec 2026, 14:05" in listing  # the list's compact form: same order, month abbreviated
