"""The overview's chart drawn on the server: plain numbers for an inline SVG, no script.

Revenue bars above, paid-order bars below, one pair per day. Only geometry
here (the template writes the SVG with presentation attributes and classes,
no style attributes, so it passes the admin's Content-Security-Policy).
"""

from dataclasses import dataclass

from core.money import format_money
from shop.orders.sales import DaySales

WIDTH, LEFT, RIGHT = 720, 72, 8
REVENUE_TOP, REVENUE_HEIGHT = 12, 150
ORDERS_TOP, ORDERS_HEIGHT = 192, 56
LABELS_Y = 268
HEIGHT = 278


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    text: str  # the day and its figure, as the bar's tooltip


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class SalesChart:
    width: int
    height: int
    revenue_bars: list[Bar]
    order_bars: list[Bar]
    labels: list[Label]  # the axes: maxima on the left, a few dates along the bottom
    baselines: list[float]  # y of each panel's zero line


def sales_chart(*, days: list[DaySales], currency: str) -> SalesChart:
    plot = WIDTH - LEFT - RIGHT
    step = plot / max(len(days), 1)
    bar = max(step * 0.7, 1)
    top_revenue = max((max(day.revenue, 0) for day in days), default=0) or 1
    top_orders = max((day.orders for day in days), default=0) or 1

    def bars(values: list[int], top_value: int, top: float, height: float, texts: list[str]) -> list[Bar]:
        result = []
        for index, (value, text) in enumerate(zip(values, texts, strict=True)):
            size = round(height * max(value, 0) / top_value, 1)
            x = round(LEFT + index * step + (step - bar) / 2, 1)
            result.append(
                Bar(x=x, y=round(top + height - size, 1), width=round(bar, 1), height=size, text=text)
            )
        return result

    dates = [day.day.strftime("%b %-d") for day in days]
    revenue_bars = bars(
        [day.revenue for day in days],
        top_revenue,
        REVENUE_TOP,
        REVENUE_HEIGHT,
        [f"{d}: {format_money(day.revenue, currency)}" for d, day in zip(dates, days, strict=True)],
    )
    order_bars = bars(
        [day.orders for day in days],
        top_orders,
        ORDERS_TOP,
        ORDERS_HEIGHT,
        [
            f"{d}: {day.orders} paid order{'s' if day.orders != 1 else ''}"
            for d, day in zip(dates, days, strict=True)
        ],
    )
    labels = [
        Label(x=LEFT - 6, y=REVENUE_TOP + 10, text=format_money(top_revenue if days else 0, currency)),
        Label(x=LEFT - 6, y=REVENUE_TOP + REVENUE_HEIGHT, text=format_money(0, currency)),
        Label(x=LEFT - 6, y=ORDERS_TOP + 10, text=f"{top_orders} orders"),
        Label(x=LEFT - 6, y=ORDERS_TOP + ORDERS_HEIGHT, text="0"),
    ]
    # A date under the first bar, the last, and about every week between.
    every = max(len(days) // 4, 1)
    for index in sorted({*range(0, len(days), every), len(days) - 1} if days else set()):
        if index != len(days) - 1 and len(days) - 1 - index < every / 2:
            continue  # too close to the last date to fit
        labels.append(Label(x=round(LEFT + index * step + step / 2, 1), y=LABELS_Y, text=dates[index]))
    return SalesChart(
        width=WIDTH,
        height=HEIGHT,
        revenue_bars=revenue_bars,
        order_bars=order_bars,
        labels=labels,
        baselines=[REVENUE_TOP + REVENUE_HEIGHT, ORDERS_TOP + ORDERS_HEIGHT],
    )
