"""The order page and receipt kept rendered per state of the order's row (shop/pagecache.py):
only the key's holder sees an order, any change to it shows on the next request, one query per visit."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shop.catalog.tests.factories import BookFactory
from shop.orders import views
from shop.orders.access import order_access_key
from shop.orders.models import Carrier, Order, OrderItem, OrderStatus, orders_changed
from shop.orders.selectors import order_get_by_number, order_row_version
from shop.orders.services import order_mark_shipped
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def paid_order(**fields):
    defaults = {"status": OrderStatus.PAID, "amount_received": 2300, "paid_at": timezone.now()}
    return OrderFactory(**{**defaults, **fields})


def visit(client, order, *, key_of=None, receipt=False):
    name = "orders:receipt" if receipt else "orders:detail"
    key = order_access_key(number=(key_of or order).number)
    return client.get(reverse(name, args=[order.number]), {"key": key})


def test_each_key_opens_only_its_own_order_also_once_kept(client):
    first, second = paid_order(email="first@example.com"), paid_order(email="second@example.com")
    for _ in range(2):  # rendered, then from memory
        assert "first@example.com" in visit(client, first).content.decode()
        assert "second@example.com" in visit(client, second).content.decode()
        assert visit(client, first, key_of=second).status_code == 404
        assert visit(client, second, key_of=first).status_code == 404


def test_the_page_and_the_receipt_are_kept_apart(client):
    order = paid_order()
    page, receipt = visit(client, order), visit(client, order, receipt=True)
    assert visit(client, order).content == page.content
    assert visit(client, order, receipt=True).content == receipt.content
    assert page.content != receipt.content


def test_a_change_to_the_row_shows_on_the_next_request_even_without_updated_at(client):
    order = paid_order()
    assert "ending in 4242" not in visit(client, order).content.decode()
    Order.objects.filter(pk=order.pk).update(card_brand="visa", card_last4="4242")  # updated_at untouched
    assert "Visa ending in 4242" in visit(client, order).content.decode()


def test_shipping_shows_on_the_next_request(client):
    order = paid_order()
    assert "1Z999AA10123456784" not in visit(client, order).content.decode()
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784", user=staff)
    assert "1Z999AA10123456784" in visit(client, order).content.decode()


def test_a_kept_order_page_costs_one_query_whatever_its_size(client, django_assert_num_queries):
    order = paid_order()
    for book in BookFactory.create_batch(20):
        OrderItem.objects.create(order=order, book=book, title=book.title, unit_amount=1000, quantity=1)
    first = visit(client, order)
    with django_assert_num_queries(1):  # the order; its items and audit rows only to render
        again = visit(client, order)
    assert again.content == first.content
    lines = OrderItem.objects.filter(order=order).count()
    assert lines > 20
    assert again.content.decode().count('<td class="num">1</td>') == lines
    assert again["Referrer-Policy"] == "no-referrer"


def test_a_kept_order_page_is_answered_before_the_middleware_stack(client, django_assert_num_queries):
    order = paid_order(email="first@example.com")
    with mock.patch("shop.orders.views.page_render", wraps=views.page_render) as renders:
        first = visit(client, order)
        with django_assert_num_queries(1):  # the order, read and checked as the view does
            again = visit(client, order)
        assert renders.call_count == 1
        assert visit(client, order, key_of=paid_order()).status_code == 404
    assert again.content == first.content
    assert again["Referrer-Policy"] == "no-referrer"
    assert again["X-Robots-Tag"] == "noindex, nofollow"


def test_a_client_over_the_limit_is_refused_a_kept_page_decided_once_per_request(client, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_IP = 2
    order = paid_order()
    assert [visit(client, order).status_code for _ in range(3)] == [200] * 3  # kept, answered from memory
    wrong = reverse("orders:detail", args=[order.number])
    assert [client.get(wrong, {"key": "wrong"}).status_code for _ in range(3)] == [404, 404, 429]
    with mock.patch.object(views, "rate_limit_peek", wraps=views.rate_limit_peek) as asked:
        refused = visit(client, order)  # the middleware asks first, finds no page to answer; the view refuses
    assert refused.status_code == 429
    assert asked.call_count == 1


def test_the_row_version_changes_with_every_change_to_the_row_by_any_path():
    order = paid_order()
    first = order_row_version(number=order.number)
    assert order_row_version(number=order.number) == first
    Order.objects.filter(pk=order.pk).update(card_last4="4242")
    second = order_row_version(number=order.number)
    with connection.cursor() as cursor:  # by hand, in the same transaction as the change before it
        cursor.execute(f"UPDATE {Order._meta.db_table} SET card_last4 = '1881' WHERE id = %s", [order.pk])
    third = order_row_version(number=order.number)
    assert len({first, second, third}) == 3
    assert order_get_by_number(number=order.number).row_version == third
    assert order_row_version(number="SP-NO-SUCH") is None


def remembered(client, order) -> bytes:
    """The page once its row version is remembered: the third load costs no query."""
    visit(client, order)
    visit(client, order)
    with CaptureQueriesContext(connection) as queries:
        page = visit(client, order)
    assert len(queries) == 0
    return page.content


def write_by_update(order):
    Order.objects.filter(pk=order.pk).update(card_brand="visa", card_last4="4242")


def write_by_save(order):
    order.card_brand, order.card_last4 = "visa", "4242"
    order.save(update_fields=["card_brand", "card_last4"])


def write_by_hand_then_say_so(order):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Order._meta.db_table} SET card_brand = 'visa', card_last4 = '4242' WHERE id = %s",
            [order.pk],
        )
    orders_changed()


@pytest.mark.parametrize("write", [write_by_update, write_by_save, write_by_hand_then_say_so])
def test_a_remembered_order_page_shows_a_write_on_the_next_load(client, write):
    order = paid_order()
    assert b"ending in 4242" not in remembered(client, order)
    write(order)
    assert "Visa ending in 4242" in visit(client, order).content.decode()


def test_a_deleted_order_is_a_404_even_once_remembered(client):
    order = paid_order()
    remembered(client, order)
    Order.objects.filter(pk=order.pk).delete()
    assert visit(client, order).status_code == 404
