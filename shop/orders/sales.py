"""The sales overview's figures (admin home, `orders.view_sales`): one aggregate query per panel.

Every figure is computed by the database (grouping by day in the shop's
TIME_ZONE with TruncDate(tzinfo=…), filtered aggregates for the totals),
never by looping over orders, so the overview costs the same few queries for
100 or 100,000 orders (benchmarks/sales_overview.py).

What counts. A sale is an order that was paid (paid, partially refunded or
refunded), on the day it was paid, in the shop's time zone. Revenue is what
the shopper was charged (net of any discount code) less what was refunded
since, counted on the day of the sale (the order knows its refunded total,
not when each refund was made); the discounts given are a figure of their own.
Amounts are in one currency, the catalog's (Book.currency's default): orders
in another currency are left out of the sums.

Figures outside the orders app (payments' failed webhook events, open
disputes) come in through `sales_overview_register`, so nothing here imports
payments.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, F, Q, Sum, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from shop.catalog.models import Book
from shop.orders.models import Order, OrderItem, OrderStatus
from shop.orders.selectors import TO_SHIP_CONDITION

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
SALES_CURRENCY: str = Book._meta.get_field("currency").default
SOLD_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)

# What the shopper was charged (Stripe's amount received, or the total until Stripe said: as
# Order.amount_charged), and that less refunds.
CHARGED = Case(When(amount_received=0, then=F("total_amount")), default=F("amount_received"))
NET = CHARGED - F("amount_refunded")


def shop_timezone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=shop_timezone())


def _today(now: datetime | None) -> date:
    return timezone.localtime(now or timezone.now(), shop_timezone()).date()


def _sales(*, since: date):
    return Order.objects.filter(
        status__in=SOLD_STATUSES, currency=SALES_CURRENCY, paid_at__gte=_day_start(since)
    )


@dataclass(frozen=True)
class DaySales:
    day: date
    revenue: int  # minor units, net of refunds
    orders: int


def sales_by_day(*, days: int, now: datetime | None = None) -> list[DaySales]:
    """One entry per day of the last `days` (today last), days without sales included."""
    today = _today(now)
    first = today - timedelta(days=days - 1)
    rows = (
        _sales(since=first)
        .annotate(day=TruncDate("paid_at", tzinfo=shop_timezone()))
        .values("day")
        .annotate(revenue=Sum(NET), orders=Count("pk"))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {"revenue": 0, "orders": 0})
        result.append(DaySales(day=day, revenue=row["revenue"] or 0, orders=row["orders"]))
    return result


@dataclass(frozen=True)
class SalesTotals:
    revenue_today: int
    revenue_7_days: int
    revenue_30_days: int
    orders_today: int
    orders_7_days: int
    orders_30_days: int
    period_revenue: int  # net of refunds, over the chosen period
    period_orders: int
    period_refunded: int
    period_discounts: int  # taken off by discount codes, over the period (already out of revenue)
    average_order: int  # charged per order over the period (before refunds), 0 without orders


def sales_totals(*, days: int, now: datetime | None = None) -> SalesTotals:
    """Today, 7 and 30 days, and the chosen period: one query of filtered sums."""
    today = _today(now)

    def since(n: int) -> Q:
        return Q(paid_at__gte=_day_start(today - timedelta(days=n - 1)))

    sums = _sales(since=today - timedelta(days=max(days, 30) - 1)).aggregate(
        revenue_today=Sum(NET, filter=since(1), default=0),
        revenue_7_days=Sum(NET, filter=since(7), default=0),
        revenue_30_days=Sum(NET, filter=since(30), default=0),
        orders_today=Count("pk", filter=since(1)),
        orders_7_days=Count("pk", filter=since(7)),
        orders_30_days=Count("pk", filter=since(30)),
        period_revenue=Sum(NET, filter=since(days), default=0),
        period_charged=Sum(CHARGED, filter=since(days), default=0),
        period_orders=Count("pk", filter=since(days)),
        period_refunded=Sum("amount_refunded", filter=since(days), default=0),
        period_discounts=Sum("discount_amount", filter=since(days), default=0),
    )
    charged = sums.pop("period_charged")
    average = round(charged / sums["period_orders"]) if sums["period_orders"] else 0
    return SalesTotals(**sums, average_order=average)


@dataclass(frozen=True)
class BookSales:
    title: str
    copies: int


def sales_top_books(*, days: int, now: datetime | None = None, limit: int = 5) -> list[BookSales]:
    """The books with the most copies sold in the period (refunded orders left out)."""
    first = _today(now) - timedelta(days=days - 1)
    rows = (
        OrderItem.objects.filter(
            order__status__in=(OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED),
            order__paid_at__gte=_day_start(first),
        )
        .values("book_id", "book__title")
        .annotate(copies=Sum("quantity"))
        .order_by("-copies", "book__title")[:limit]
    )
    return [BookSales(title=row["book__title"], copies=row["copies"]) for row in rows]


@dataclass(frozen=True)
class Attention:
    to_ship: int
    needs_review: int


def orders_needing_attention() -> Attention:
    """Orders waiting to ship and orders flagged for review: one query."""
    # The WHERE lets the database read the two small index ranges instead of every order.
    counts = Order.objects.filter(TO_SHIP_CONDITION | Q(needs_review=True)).aggregate(
        to_ship=Count("pk", filter=TO_SHIP_CONDITION),
        needs_review=Count("pk", filter=Q(needs_review=True)),
    )
    return Attention(**counts)


# --- panels from other apps ------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    url: str = ""
    detail: str = ""  # shown after the value, e.g. the nearest deadline


_figures: list[Callable[[], Figure]] = []


def sales_overview_register(figure: Callable[[], Figure]) -> None:
    """Add a figure to the overview's "needs attention" panel (called from an AppConfig.ready)."""
    if figure not in _figures:
        _figures.append(figure)


def sales_extra_figures() -> list[Figure]:
    return [figure() for figure in _figures]
