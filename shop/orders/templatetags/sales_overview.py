"""The admin home's order panels: "To ship: N orders" and the sales overview (templates/admin/index.html).

The sales overview shows only to staff with `orders.view_sales`; the "to
ship" link to staff who may see orders. Figures come from shop/orders/sales.py.
"""

from django import template
from django.urls import reverse

from core.money import format_money
from shop.orders.sales import (
    DEFAULT_PERIOD,
    PERIODS,
    SALES_CURRENCY,
    orders_needing_attention,
    sales_by_day,
    sales_extra_figures,
    sales_top_books,
    sales_totals,
)
from shop.orders.sales_chart import sales_chart
from shop.orders.selectors import orders_to_ship

register = template.Library()

SALES_PERMISSION = "orders.view_sales"


def chosen_period(value: str | None) -> int:
    """The ?days= of the period picker; anything else is the default period."""
    return int(value) if value in {str(p) for p in PERIODS} else DEFAULT_PERIOD


@register.inclusion_tag("admin/orders/sales_overview.html", takes_context=True)
def sales_overview(context) -> dict:
    from shop.orders.admin import OrderAdmin  # the admin imports these selectors: import late

    request = context["request"]
    user = request.user
    can_see_orders = user.has_perm("orders.view_order") or user.has_perm("orders.change_order")
    can_see_sales = user.has_perm(SALES_PERMISSION)
    result: dict = {"can_see_orders": can_see_orders, "can_see_sales": can_see_sales}
    if not (can_see_orders or can_see_sales):
        return result
    changelist = reverse("admin:orders_order_changelist")
    result["to_ship_url"] = f"{changelist}?{OrderAdmin.to_ship_query()}"
    if not can_see_sales:
        result["to_ship"] = orders_to_ship().count()
        return result

    days = chosen_period(request.GET.get("days"))
    attention = orders_needing_attention()
    series = sales_by_day(days=days)
    totals = sales_totals(days=days)
    money = lambda amount: format_money(amount, SALES_CURRENCY)  # noqa: E731
    result.update(
        {
            "to_ship": attention.to_ship,
            "needs_review": attention.needs_review,
            "review_url": f"{changelist}?needs_review__exact=1",
            "extra_figures": sales_extra_figures(),
            "days": days,
            "periods": PERIODS,
            "currency": SALES_CURRENCY.upper(),
            "series": [
                {"day": day.day, "revenue": money(day.revenue), "orders": day.orders} for day in series
            ],
            "chart": sales_chart(days=series, currency=SALES_CURRENCY),
            "totals": [
                ("Today", money(totals.revenue_today), totals.orders_today),
                ("Last 7 days", money(totals.revenue_7_days), totals.orders_7_days),
                ("Last 30 days", money(totals.revenue_30_days), totals.orders_30_days),
            ],
            "period_revenue": money(totals.period_revenue),
            "period_orders": totals.period_orders,
            "period_refunded": money(totals.period_refunded),
            "period_discounts": money(totals.period_discounts),
            "average_order": money(totals.average_order),
            "top_books": sales_top_books(days=days),
        }
    )
    return result
