"""The order list as CSV, streamed so any number of orders fits in memory.

Two shapes:
- `order_rows`: one row per order (what accounts and customer service need):
  dates, customer, full address as its country writes it (shop/orders/addresses.py),
  the books in one cell, subtotal, shipping, total, refunded, status in words,
  tracking. Summing a money column counts each order once.
- `order_line_rows`: one row per book of an order (for stock work): quantity,
  unit price and line amount, never the order's totals (they would repeat).

Orders are read with `QuerySet.iterator(chunk_size=…)` (a server-side cursor
on PostgreSQL), their lines prefetched per chunk: memory and queries stay the
same for 100 or 100,000 orders.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return)
as a formula; such cells are prefixed with a single quote, so an email or a
title cannot run anything on staff's machines.
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import Prefetch, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from shop.money import minor_units_to_text
from shop.orders.addresses import address_one_line
from shop.orders.models import Order, OrderItem

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000
ORDER_HEADER = [
    "order number",
    "created",
    "paid",
    "shipped",
    "customer name",
    "email",
    "shipping address",
    "books",
    "subtotal",
    "shipping",
    "total",
    "refunded",
    "currency",
    "status",
    "fulfilment",
    "carrier",
    "tracking number",
    "payment reference",
]
LINE_HEADER = [
    "order number",
    "created",
    "paid",
    "status",
    "fulfilment",
    "book",
    "author",
    "quantity",
    "unit price",
    "line amount",
    "currency",
]


def csv_cell(value) -> str:
    """A value as a CSV cell, with formula-looking text neutralised."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _orders_with_lines(orders: QuerySet[Order]) -> Iterator[Order]:
    lines = Prefetch("items", queryset=OrderItem.objects.select_related("book").order_by("id"))
    return (
        Order.objects.filter(pk__in=orders.order_by().values("pk"))
        .order_by("created_at", "pk")
        .prefetch_related(lines)
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _money(amount: int, currency: str) -> str:
    return minor_units_to_text(amount=amount, currency=currency)


def order_rows(*, orders: QuerySet[Order]) -> Iterator[list[str]]:
    """The header, then one row per order."""
    yield ORDER_HEADER
    for order in _orders_with_lines(orders):
        items = order.items.all()
        books = "; ".join(f"{item.quantity} × {item.title}" for item in items)
        yield [
            csv_cell(value)
            for value in (
                order.number,
                _when(order.created_at),
                _when(order.paid_at),
                _when(order.shipped_at),
                order.shipping_name,
                order.email,
                address_one_line(order),
                books,
                _money(order.subtotal_amount, order.currency),
                _money(order.shipping_amount, order.currency),
                _money(order.total_amount, order.currency),
                _money(order.amount_refunded, order.currency),
                order.currency.upper(),
                order.get_status_display(),
                order.get_fulfilment_status_display(),
                order.get_carrier_display() if order.carrier else "",
                order.tracking_number,
                order.payment_intent_id,
            )
        ]


def order_line_rows(*, orders: QuerySet[Order]) -> Iterator[list[str]]:
    """The header, then one row per book of each order (an order without lines: none)."""
    yield LINE_HEADER
    for order in _orders_with_lines(orders):
        for item in order.items.all():
            yield [
                csv_cell(value)
                for value in (
                    order.number,
                    _when(order.created_at),
                    _when(order.paid_at),
                    order.get_status_display(),
                    order.get_fulfilment_status_display(),
                    item.title,
                    item.book.author,
                    item.quantity,
                    _money(item.unit_amount, order.currency),
                    _money(item.line_amount, order.currency),
                    order.currency.upper(),
                )
            ]


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded."""

    def write(self, value: str) -> str:
        return value


def csv_streaming_response(*, rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
