"""Back after paying (issue 9, item 14): the checkout page of a book this session bought says so."""

import pytest
from django.urls import reverse

from payments.views import SESSION_ORDER_IDS
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import OrderStatus
from shop.orders.services import order_create, order_mark_paid

pytestmark = pytest.mark.django_db


def session_with_orders(client, *orders) -> None:
    session = client.session
    session[SESSION_ORDER_IDS] = [order.pk for order in orders]
    session.save()


def paid_order(book, payment_intent_id: str):
    order = order_create(lines=[(book, 1)], email="reader@example.com")
    order.payment_intent_id = payment_intent_id
    order.save(update_fields=["payment_intent_id"])
    return order_mark_paid(order=order, amount_received=order.total_amount, cause="test")


def test_checkout_page_is_never_stored_by_the_browser(client):
    book = BookFactory()
    response = client.get(reverse("payments:checkout", args=[book.slug]))
    assert "no-store" in response["Cache-Control"]


def test_checkout_of_a_book_bought_in_this_session_says_so_and_links_the_order(client):
    book = BookFactory()
    order = paid_order(book, "pi_3BoughtBefore")
    session_with_orders(client, order)

    page = client.get(reverse("payments:checkout", args=[book.slug])).content.decode()

    assert 'id="already-bought"' in page
    assert "You already bought this book" in page
    assert f'href="/payments/success/?payment_intent=pi_3BoughtBefore">{order.number}</a>' in page
    assert 'id="buy-another"' in page


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.REFUNDED])
def test_no_notice_for_unpaid_or_refunded_orders(client, status):
    book = BookFactory()
    order = order_create(lines=[(book, 1)], email="reader@example.com")
    order.status = status
    order.save(update_fields=["status"])
    session_with_orders(client, order)

    page = client.get(reverse("payments:checkout", args=[book.slug])).content.decode()

    assert 'id="already-bought"' not in page


def test_no_notice_for_another_book_or_another_session(client):
    bought, other = BookFactory(), BookFactory()
    order = paid_order(bought, "pi_3OtherBook")
    session_with_orders(client, order)
    assert (
        'id="already-bought"'
        not in client.get(reverse("payments:checkout", args=[other.slug])).content.decode()
    )

    client.logout()  # a new session: the order is not this shopper's
    page = client.get(reverse("payments:checkout", args=[bought.slug])).content.decode()
    assert 'id="already-bought"' not in page
