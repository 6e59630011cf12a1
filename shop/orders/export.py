"""The order list as CSV, streamed so any number of orders fits in memory.

Two shapes:
- `order_rows`: one row per order (what accounts and customer service need):
  dates, customer, full address as its country writes it (shop/orders/addresses.py),
  the books in one cell, subtotal, discount code and amount, shipping, total
  (what was charged, net of the discount), refunded, status in words,
  tracking. Summing a money column counts each order once.
- `order_line_rows`: one row per book of an order (for stock work): quantity,
  unit price and line amount, never the order's totals (they would repeat).

Orders are read as values with `QuerySet.iterator(chunk_size=…)` (a server-side
cursor on PostgreSQL), their lines in one query per chunk: memory and queries
stay the same for 100 or 100,000 orders.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return)
as a formula; such cells are prefixed with a single quote, so an email or a
title cannot run anything on staff's machines.
"""

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from core.money import minor_units_to_text
from shop.orders.addresses import shipping_address_lines
from shop.orders.models import Carrier, FulfilmentStatus, Order, OrderItem, OrderStatus
from shop.orders.shipping import ShippingAddress

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
    "discount code",
    "discount",
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


ORDER_FIELDS = [
    "pk",
    "number",
    "created_at",
    "paid_at",
    "shipped_at",
    "email",
    *(f"shipping_{part}" for part in ShippingAddress.__dataclass_fields__),
    "total_amount",
    "shipping_amount",
    "voucher_code",
    "discount_amount",
    "amount_refunded",
    "currency",
    "status",
    "fulfilment_status",
    "carrier",
    "tracking_number",
    "payment_intent_id",
]
LINE_FIELDS = ["order_id", "title", "quantity", "unit_amount", "book__author"]


def _orders_with_lines(orders: QuerySet[Order]) -> Iterator[tuple[dict, list[dict]]]:
    """(order values, its lines' values) in creation order: a chunk of orders, then their lines."""
    rows = (
        Order.objects.filter(pk__in=orders.order_by().values("pk"))
        .order_by("created_at", "pk")
        .values(*ORDER_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    while chunk := list(islice(rows, CHUNK_SIZE)):
        lines = defaultdict(list)
        order_ids = [row["pk"] for row in chunk]
        for line in OrderItem.objects.filter(order_id__in=order_ids).order_by("id").values(*LINE_FIELDS):
            lines[line["order_id"]].append(line)
        for row in chunk:
            yield row, lines[row["pk"]]


def _money(amount: int, currency: str) -> str:
    return minor_units_to_text(amount=amount, currency=currency)


def _address(row: dict) -> str:
    address = ShippingAddress(
        **{part: row[f"shipping_{part}"] for part in ShippingAddress.__dataclass_fields__}
    )
    return ", ".join(shipping_address_lines(address))


def order_rows(*, orders: QuerySet[Order]) -> Iterator[list[str]]:
    """The header, then one row per order."""
    yield ORDER_HEADER
    for row, lines in _orders_with_lines(orders):
        currency = row["currency"]
        yield [
            csv_cell(value)
            for value in (
                row["number"],
                _when(row["created_at"]),
                _when(row["paid_at"]),
                _when(row["shipped_at"]),
                row["shipping_name"],
                row["email"],
                _address(row),
                "; ".join(f"{line['quantity']} × {line['title']}" for line in lines),
                _money(row["total_amount"] - row["shipping_amount"] + row["discount_amount"], currency),
                row["voucher_code"],
                _money(row["discount_amount"], currency),
                _money(row["shipping_amount"], currency),
                _money(row["total_amount"], currency),
                _money(row["amount_refunded"], currency),
                currency.upper(),
                OrderStatus(row["status"]).label,
                FulfilmentStatus(row["fulfilment_status"]).label,
                Carrier(row["carrier"]).label if row["carrier"] else "",
                row["tracking_number"],
                row["payment_intent_id"],
            )
        ]


def order_line_rows(*, orders: QuerySet[Order]) -> Iterator[list[str]]:
    """The header, then one row per book of each order (an order without lines: none)."""
    yield LINE_HEADER
    for row, lines in _orders_with_lines(orders):
        currency = row["currency"]
        for line in lines:
            yield [
                csv_cell(value)
                for value in (
                    row["number"],
                    _when(row["created_at"]),
                    _when(row["paid_at"]),
                    OrderStatus(row["status"]).label,
                    FulfilmentStatus(row["fulfilment_status"]).label,
                    line["title"],
                    line["book__author"],
                    line["quantity"],
                    _money(line["unit_amount"], currency),
                    _money(line["unit_amount"] * line["quantity"], currency),
                    currency.upper(),
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
