"""The sales overview's figures against a hand-made data set, in a time zone that is not UTC."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.catalog.tests.factories import BookFactory
from shop.orders.models import OrderItem, OrderStatus
from shop.orders.sales import (
    orders_needing_attention,
    sales_by_day,
    sales_top_books,
    sales_totals,
)
from shop.orders.sales_chart import sales_chart
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

# Noon in New York (EDT, UTC-4) on June 15th.
NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)


def paid(at: datetime, received: int, *, refunded: int = 0, book=None, quantity: int = 1, **kwargs):
    status = (
        OrderStatus.REFUNDED
        if refunded == received
        else OrderStatus.PARTIALLY_REFUNDED
        if refunded
        else OrderStatus.PAID
    )
    order = OrderFactory(
        status=status,
        total_amount=received,
        amount_received=received,
        amount_refunded=refunded,
        paid_at=at,
        items__book=book or BookFactory(),
        **kwargs,
    )
    OrderItem.objects.filter(order=order).update(quantity=quantity)
    return order


@pytest.fixture
def shop_in_new_york(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def sales(shop_in_new_york):
    hamming = BookFactory(title="The Art of Doing Science and Engineering")
    persia = BookFactory(title="The Making of Prince of Persia")
    return {
        # 23:30 on the 14th in New York, though already the 15th in UTC: yesterday's sale.
        "late_yesterday": paid(datetime(2026, 6, 15, 3, 30, tzinfo=UTC), 2300, book=hamming),
        # 00:30 on the 15th in New York: today's, $4.00 of it refunded since.
        "just_after_midnight": paid(
            datetime(2026, 6, 15, 4, 30, tzinfo=UTC), 1000, refunded=400, book=hamming, quantity=2
        ),
        # Fully refunded: a paid order worth nothing now; its copies are not "sold".
        "refunded": paid(
            datetime(2026, 6, 10, 12, 0, tzinfo=UTC), 2000, refunded=2000, book=persia, quantity=5
        ),
        "weeks_ago": paid(datetime(2026, 5, 20, 12, 0, tzinfo=UTC), 3000, book=persia),
        "months_ago": paid(datetime(2026, 5, 1, 12, 0, tzinfo=UTC), 5000, book=persia),
        # Never counted: unpaid, or another currency.
        "pending": OrderFactory(status=OrderStatus.PENDING, total_amount=9900),
        "euros": paid(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), 7700, currency="eur", book=persia),
    }


def test_revenue_and_orders_per_day_in_the_shop_time_zone(sales):
    days = sales_by_day(days=30, now=NOW)

    assert len(days) == 30
    assert (days[0].day, days[-1].day) == (date(2026, 5, 17), date(2026, 6, 15))
    figures = {day.day: (day.revenue, day.orders) for day in days if day.orders}
    assert figures == {
        date(2026, 5, 20): (3000, 1),
        date(2026, 6, 10): (0, 1),
        date(2026, 6, 14): (2300, 1),
        date(2026, 6, 15): (600, 1),
    }


def test_totals_today_7_and_30_days_refunds_and_average(sales):
    totals = sales_totals(days=30, now=NOW)

    assert (totals.revenue_today, totals.orders_today) == (600, 1)
    assert (totals.revenue_7_days, totals.orders_7_days) == (2900, 3)
    assert (totals.revenue_30_days, totals.orders_30_days) == (5900, 4)
    assert (totals.period_revenue, totals.period_orders) == (5900, 4)
    assert totals.period_refunded == 2400
    assert totals.average_order == (2300 + 1000 + 2000 + 3000) // 4


def test_a_90_day_period_reaches_further_back(sales):
    totals = sales_totals(days=90, now=NOW)
    assert (totals.period_revenue, totals.period_orders) == (10900, 5)
    assert (totals.revenue_30_days, totals.orders_30_days) == (5900, 4)
    assert len(sales_by_day(days=90, now=NOW)) == 90


def test_in_utc_the_late_sale_is_today(sales, settings):
    settings.TIME_ZONE = "UTC"
    totals = sales_totals(days=30, now=NOW)
    assert (totals.revenue_today, totals.orders_today) == (2900, 2)


def test_top_books_by_copies_leave_out_refunded_orders(sales):
    top = sales_top_books(days=30, now=NOW)
    # Copies are copies in any currency: the euro order's one counts, the refunded order's five do not.
    assert [(book.title, book.copies) for book in top] == [
        ("The Art of Doing Science and Engineering", 3),
        ("The Making of Prince of Persia", 2),
    ]


def test_orders_needing_attention(sales):
    OrderFactory(status=OrderStatus.PAID, needs_review=True, fulfilment_status="shipped")
    attention = orders_needing_attention()
    # Paid or partially refunded and unfulfilled: late_yesterday, just_after_midnight, weeks_ago,
    # months_ago, euros (a parcel to ship, whatever its currency).
    assert (attention.to_ship, attention.needs_review) == (5, 1)


def test_each_panel_is_one_query(sales):
    for figure in (
        lambda: sales_by_day(days=90, now=NOW),
        lambda: sales_totals(days=90, now=NOW),
        lambda: sales_top_books(days=90, now=NOW),
        orders_needing_attention,
    ):
        with CaptureQueriesContext(connection) as queries:
            figure()
        assert len(queries) == 1


def test_an_empty_shop_has_zero_figures(shop_in_new_york):
    totals = sales_totals(days=7, now=NOW)
    assert (totals.period_revenue, totals.period_orders, totals.average_order) == (0, 0, 0)
    assert sales_top_books(days=7, now=NOW) == []
    chart = sales_chart(days=sales_by_day(days=7, now=NOW), currency="usd")
    assert len(chart.revenue_bars) == 7 and all(bar.height == 0 for bar in chart.revenue_bars)


def test_chart_bars_are_scaled_to_the_busiest_day(sales):
    chart = sales_chart(days=sales_by_day(days=30, now=NOW), currency="usd")
    tallest = max(chart.revenue_bars, key=lambda bar: bar.height)
    assert tallest.text == "May 20: $30.00" and tallest.height == 150
    today = chart.revenue_bars[-1]
    assert today.text == "Jun 15: $6.00" and today.height == 30.0
    assert chart.order_bars[-1].text == "Jun 15: 1 paid order"
    assert [label.text for label in chart.labels if label.y == 268][-1] == "Jun 15"
