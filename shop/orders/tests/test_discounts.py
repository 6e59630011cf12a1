"""A discounted order everywhere staff and the shopper see it, and its use of the code given back once."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from shop.catalog.tests.factories import BookFactory
from shop.orders.access import order_access_key
from shop.orders.emails import CONFIRMATION, order_email_message
from shop.orders.models import Order, OrderStatus
from shop.orders.sales import sales_totals
from shop.orders.services import (
    order_create,
    order_mark_canceled,
    order_voucher_use_return,
    order_voucher_use_take,
)
from shop.orders.tests.factories import OrderFactory
from shop.vouchers.exceptions import VoucherRefused
from shop.vouchers.models import Voucher
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(db):
    return VoucherFactory(code="SPRING", value=10, max_uses=2)


@pytest.fixture
def order(voucher) -> Order:
    """$23.00 - 10% ($2.30) + $4.99 shipping = $25.69, holding no use yet."""
    book = BookFactory(title="Hamming", price_amount=2300)
    return order_create(lines=[(book, 1)], email="ada@example.com", voucher=voucher)


def uses(voucher) -> int:
    return Voucher.objects.get(pk=voucher.pk).uses_count


def test_the_order_keeps_the_code_the_discount_and_the_lines_as_priced(order, voucher):
    assert (order.voucher_code, order.discount_amount, order.total_amount) == ("SPRING", 230, 2569)
    assert (order.subtotal_amount, order.shipping_amount) == (2300, 499)
    assert list(order.items.values_list("title", "unit_amount", "quantity")) == [("Hamming", 2300, 1)]


def test_a_use_is_taken_once_and_given_back_once(order, voucher):
    order_voucher_use_take(order=order)
    order_voucher_use_take(order=order)
    assert uses(voucher) == 1

    assert order_voucher_use_return(order=order, cause="test")
    assert not order_voucher_use_return(order=order, cause="test again")
    assert uses(voucher) == 0


def test_canceling_gives_the_use_back(order, voucher):
    order_voucher_use_take(order=order)
    order_mark_canceled(order=order, cause="test")
    order.refresh_from_db()
    assert not order.voucher_use_held and uses(voucher) == 0


def test_no_use_is_taken_past_the_maximum(voucher):
    book = BookFactory(price_amount=2300)
    orders = [order_create(lines=[(book, 1)], email=f"s{n}@example.com", voucher=voucher) for n in range(3)]
    order_voucher_use_take(order=orders[0])
    order_voucher_use_take(order=orders[1])
    with pytest.raises(VoucherRefused, match="has been used up"):
        order_voucher_use_take(order=orders[2])
    orders[2].refresh_from_db()
    assert not orders[2].voucher_use_held and uses(voucher) == 2


def test_an_order_without_a_code_takes_nothing_and_asks_nothing(django_assert_num_queries):
    plain = OrderFactory()
    with django_assert_num_queries(0):
        assert order_voucher_use_take(order=plain) is plain


def paid(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.PAID, amount_received=order.total_amount, paid_at=timezone.now()
    )
    order.refresh_from_db()
    return order


def test_order_page_and_receipt_show_the_discount_line(client, order):
    paid(order)
    key = order_access_key(number=order.number)
    for name in ("orders:detail", "orders:receipt"):
        page = client.get(reverse(name, args=[order.number]), {"key": key}).content.decode()
        assert "Discount (code SPRING)" in page
        assert '<td class="num" id="discount-amount">−$2.30</td>' in page
        assert '<td class="num" id="total-amount">$25.69</td>' in page


def test_the_confirmation_email_shows_the_discount(order):
    message = order_email_message(order=paid(order), kind=CONFIRMATION)
    assert "Discount (code SPRING): −$2.30" in message.body
    assert "Total charged: $25.69" in message.body
    html = message.alternatives[0][0]
    assert "Discount (code SPRING)" in html and "−$2.30" in html
    assert not mail.outbox  # built, not sent


def test_the_admin_order_page_and_search_show_the_code(admin_client, order):
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "−$2.30 with code SPRING (its use given back)" in page
    listing = admin_client.get(reverse("admin:orders_order_changelist"), {"q": "spring"}).content.decode()
    assert order.number in listing


def test_the_codes_admin_page_links_to_its_orders(admin_client, order, voucher):
    OrderFactory(email="other@example.com")
    page = admin_client.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk])).content.decode()
    url = reverse("admin:orders_order_changelist") + f"?voucher__id__exact={voucher.pk}"
    assert f'href="{url}"' in page
    listing = admin_client.get(url).content.decode()
    assert order.number in listing and "other@example.com" not in listing


def test_the_csv_export_has_the_code_and_the_discount(admin_client, order):
    paid(order)
    response = admin_client.get("/admin/orders/order/export.csv")
    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (row["discount code"], row["discount"], row["subtotal"], row["total"]) == (
        "SPRING",
        "2.30",
        "23.00",
        "25.69",
    )


def test_sales_revenue_is_net_of_discounts_and_the_discounts_are_a_figure(order, settings):
    settings.TIME_ZONE = "UTC"
    now = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.PAID, amount_received=2569, paid_at=datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    )
    OrderFactory(status=OrderStatus.PAID, total_amount=2300, amount_received=2300, paid_at=now)

    totals = sales_totals(days=7, now=now)

    assert (totals.revenue_today, totals.period_discounts) == (2569 + 2300, 230)


def test_the_overview_shows_the_discounts(admin_client, order):
    paid(order)
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert '<dd id="period-discounts">$2.30</dd>' in page
    assert "Revenue, net of discounts and refunds" in page
