"""The order list as CSV: one row per order line, streamed so any number of orders fits in memory.

Order-wide figures (discount code and amount, shipping, total, refunded) repeat on each line of
an order; the total is what was charged, net of the discount.

Rows are read with `QuerySet.iterator(chunk_size=…)` (a server-side cursor
on PostgreSQL) and written one by one into a StreamingHttpResponse: memory
and queries stay the same for 100 or 100,000 orders.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return)
as a formula; such cells are prefixed with a single quote, so an email or a
title cannot run anything on staff's machines.
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from core.money import minor_units_to_text
from shop.orders.models import Order

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000
HEADER = [
    "order number",
    "created",
    "paid",
    "shipped",
    "email",
    "status",
    "fulfilment",
    "book",
    "quantity",
    "unit price",
    "discount code",
    "discount",
    "shipping",
    "total",
    "refunded",
    "currency",
    "PaymentIntent id",
]
FIELDS = [
    "number",
    "created_at",
    "paid_at",
    "shipped_at",
    "email",
    "status",
    "fulfilment_status",
    "items__title",
    "items__quantity",
    "items__unit_amount",
    "voucher_code",
    "discount_amount",
    "shipping_amount",
    "total_amount",
    "amount_refunded",
    "currency",
    "payment_intent_id",
]


def csv_cell(value) -> str:
    """A value as a CSV cell, with formula-looking text neutralised."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def order_lines_rows(*, orders: QuerySet[Order]) -> Iterator[list[str]]:
    """The header, then one row per order line (an order without lines: one row, no book)."""
    yield HEADER
    lines = (
        Order.objects.filter(pk__in=orders.order_by().values("pk"))
        .order_by("created_at", "pk", "items__id")
        .values(*FIELDS)
    )
    for row in lines.iterator(chunk_size=CHUNK_SIZE):
        currency = row["currency"]

        def money(amount: int | None, currency: str = currency) -> str:
            return "" if amount is None else minor_units_to_text(amount=amount, currency=currency)

        yield [
            csv_cell(value)
            for value in (
                row["number"],
                _when(row["created_at"]),
                _when(row["paid_at"]),
                _when(row["shipped_at"]),
                row["email"],
                row["status"],
                row["fulfilment_status"],
                row["items__title"],
                row["items__quantity"],
                money(row["items__unit_amount"]),
                row["voucher_code"],
                money(row["discount_amount"]),
                money(row["shipping_amount"]),
                money(row["total_amount"]),
                money(row["amount_refunded"]),
                currency.upper(),
                row["payment_intent_id"],
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
