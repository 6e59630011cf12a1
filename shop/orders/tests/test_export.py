"""The order list as CSV: content, formula escaping, filters honoured, streamed in bounded queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.catalog.tests.factories import BookFactory
from shop.orders.export import HEADER, csv_cell
from shop.orders.models import Order, OrderItem, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

EXPORT = "/admin/orders/order/export.csv"


def read_csv(response) -> list[dict]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_cells_that_look_like_formulas_are_escaped(value, cell):
    assert csv_cell(value) == cell


def test_one_row_per_order_line_with_every_column(admin_client):
    hamming = BookFactory(title="The Art of Doing Science and Engineering", price_amount=2800)
    persia = BookFactory(title="=cmd|' /C calc'!A0", price_amount=1500)
    order = OrderFactory(
        email="ada@example.com",
        status=OrderStatus.PARTIALLY_REFUNDED,
        total_amount=6299,
        shipping_amount=499,
        amount_received=6299,
        amount_refunded=500,
        payment_intent_id="pi_3Export",
        items__book=hamming,
    )
    OrderItem.objects.filter(order=order).update(quantity=1, unit_amount=2800)
    OrderItem.objects.create(order=order, book=persia, title=persia.title, unit_amount=1500, quantity=2)

    response = admin_client.get(EXPORT)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    rows = read_csv(response)
    assert list(rows[0]) == HEADER
    assert [(row["book"], row["quantity"], row["unit price"]) for row in rows] == [
        ("The Art of Doing Science and Engineering", "1", "28.00"),
        ("'=cmd|' /C calc'!A0", "2", "15.00"),
    ]
    first = rows[0]
    assert first["order number"] == order.number
    assert (first["email"], first["status"], first["fulfilment"]) == (
        "ada@example.com",
        "partially_refunded",
        "unfulfilled",
    )
    assert (first["shipping"], first["total"], first["refunded"]) == ("4.99", "62.99", "5.00")
    assert first["currency"] == "USD"
    assert first["PaymentIntent id"] == "pi_3Export"


def test_the_button_exports_what_the_list_shows(admin_client):
    OrderFactory(status=OrderStatus.PAID, email="paid@example.com")
    OrderFactory(status=OrderStatus.PENDING, email="pending@example.com")

    page = admin_client.get("/admin/orders/order/", {"status__exact": "paid"}).content.decode()
    assert f'href="{EXPORT}?status__exact=paid"' in page

    rows = read_csv(admin_client.get(EXPORT, {"status__exact": "paid"}))
    assert [row["email"] for row in rows] == ["paid@example.com"]
    rows = read_csv(admin_client.get(EXPORT, {"q": "pending@"}))
    assert [row["email"] for row in rows] == ["pending@example.com"]


def test_an_unknown_filter_is_a_400(admin_client):
    response = admin_client.get(EXPORT, {"no_such_field__gt": "1"})
    assert response.status_code == 400


def test_the_admin_action_exports_the_selected_orders(admin_client):
    chosen, _other = OrderFactory(), OrderFactory()
    response = admin_client.post(
        "/admin/orders/order/", {"action": "export_csv", "_selected_action": [chosen.pk]}
    )
    assert [row["order number"] for row in read_csv(response)] == [chosen.number]


def test_staff_who_cannot_see_orders_cannot_export(client, django_user_model):
    OrderFactory()
    client.force_login(django_user_model.objects.create_user("nobody", password="x", is_staff=True))
    assert client.get(EXPORT).status_code == 403


def test_the_export_streams_in_chunks_with_bounded_queries(admin_client, monkeypatch):
    # Chunks of 5 rows: 23 orders need 5 chunks. Queries stay a handful (one cursor on PostgreSQL,
    # one query per chunk on SQLite), never one per order.
    monkeypatch.setattr("shop.orders.export.CHUNK_SIZE", 5)
    OrderFactory.create_batch(23)
    response = admin_client.get(EXPORT)
    assert response.streaming
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    assert len(chunks) == 24  # the header, then one chunk of bytes per row, produced as they are read
    assert len(queries) <= 6, [q["sql"][:80] for q in queries]
    assert Order.objects.count() == 23
