"""The order list as CSV: content, formula escaping, filters honoured, streamed in bounded queries."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.catalog.tests.factories import BookFactory
from shop.orders.export import LINE_HEADER, ORDER_HEADER, csv_cell
from shop.orders.models import Order, OrderItem, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

EXPORT = "/admin/orders/order/export.csv"
EXPORT_BOOKS = "/admin/orders/order/export-books.csv"


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


def two_book_order() -> Order:
    hamming = BookFactory(
        title="The Art of Doing Science and Engineering", author="Hamming", price_amount=2800
    )
    persia = BookFactory(title="=cmd|' /C calc'!A0", author="Mechner", price_amount=1500)
    order = OrderFactory(
        email="ada@example.com",
        status=OrderStatus.PARTIALLY_REFUNDED,
        total_amount=6299,
        shipping_amount=499,
        amount_received=6299,
        amount_refunded=500,
        payment_intent_id="pi_3Export",
        items__book=hamming,
        shipping_name="Ada Lovelace",
        shipping_line1="12 St James's Square",
        shipping_city="London",
        shipping_postal_code="SW1Y 4JH",
        shipping_country="GB",
        fulfilment_status="shipped",
        carrier="royal_mail",
        tracking_number="AB123456789GB",
    )
    OrderItem.objects.filter(order=order).update(quantity=1, unit_amount=2800)
    OrderItem.objects.create(order=order, book=persia, title=persia.title, unit_amount=1500, quantity=2)
    return order


def test_one_row_per_order_so_money_columns_add_up(admin_client):
    order = two_book_order()
    OrderFactory(total_amount=1000, items__book=BookFactory(price_amount=1000))

    response = admin_client.get(EXPORT)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    rows = read_csv(response)
    assert list(rows[0]) == ORDER_HEADER
    assert len(rows) == 2
    assert sum(Decimal(row["total"]) for row in rows) == Decimal("72.99")
    first = rows[0]
    assert (first["order number"], first["customer name"], first["email"]) == (
        order.number,
        "Ada Lovelace",
        "ada@example.com",
    )
    assert first["shipping address"] == "Ada Lovelace, 12 St James's Square, LONDON, SW1Y 4JH, UNITED KINGDOM"
    assert first["books"] == "1 × The Art of Doing Science and Engineering; 2 × =cmd|' /C calc'!A0"
    assert (first["subtotal"], first["shipping"], first["total"], first["refunded"]) == (
        "58.00",
        "4.99",
        "62.99",
        "5.00",
    )
    assert (first["currency"], first["status"], first["fulfilment"]) == (
        "USD",
        "Partially refunded",
        "Shipped",
    )
    assert (first["carrier"], first["tracking number"]) == ("Royal Mail", "AB123456789GB")
    assert first["payment reference"] == "pi_3Export"


def test_the_books_export_has_one_row_per_book_and_no_order_totals(admin_client):
    order = two_book_order()
    page = admin_client.get("/admin/orders/order/").content.decode()
    assert f'href="{EXPORT_BOOKS}' in page

    rows = read_csv(admin_client.get(EXPORT_BOOKS))
    assert list(rows[0]) == LINE_HEADER
    assert [(row["order number"], row["book"], row["author"], row["quantity"]) for row in rows] == [
        (order.number, "The Art of Doing Science and Engineering", "Hamming", "1"),
        (order.number, "'=cmd|' /C calc'!A0", "Mechner", "2"),  # a formula, escaped
    ]
    assert [(row["unit price"], row["line amount"]) for row in rows] == [
        ("28.00", "28.00"),
        ("15.00", "30.00"),
    ]
    assert "total" not in rows[0] and "refunded" not in rows[0]


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


@pytest.mark.parametrize("action", ["export_csv", "export_lines_csv"])
def test_the_admin_actions_export_the_selected_orders(admin_client, action):
    chosen, _other = OrderFactory(), OrderFactory()
    response = admin_client.post("/admin/orders/order/", {"action": action, "_selected_action": [chosen.pk]})
    assert [row["order number"] for row in read_csv(response)] == [chosen.number]


def test_staff_who_cannot_see_orders_cannot_export(client, django_user_model):
    OrderFactory()
    client.force_login(django_user_model.objects.create_user("nobody", password="x", is_staff=True))
    assert client.get(EXPORT).status_code == 403
    assert client.get(EXPORT_BOOKS).status_code == 403


@pytest.mark.parametrize("url", [EXPORT, EXPORT_BOOKS])
def test_the_export_streams_in_chunks_with_bounded_queries(admin_client, monkeypatch, url):
    # Chunks of 5 orders: 23 orders need 5 chunks. Queries stay a handful (one cursor on PostgreSQL,
    # or one query per chunk on SQLite, and the lines of each chunk), never one per order.
    monkeypatch.setattr("shop.orders.export.CHUNK_SIZE", 5)
    OrderFactory.create_batch(23)
    response = admin_client.get(url)
    assert response.streaming
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    assert len(chunks) == 24  # the header, then one chunk of bytes per row, produced as they are read
    assert len(queries) <= 11, [q["sql"][:80] for q in queries]
    assert Order.objects.count() == 23
