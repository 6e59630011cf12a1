"""A full refund before shipping may put the order's copies back in stock (admin refund form)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.tests.emulator import paid_order_on_emulator, staff_user
from shop.catalog.models import Book
from shop.orders.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


@pytest.fixture
def clerk(client):
    user = staff_user()
    client.force_login(user)
    return user


@pytest.fixture
def order_holding_copies():
    order = paid_order_on_emulator(total_amount=2300)
    Order.objects.filter(pk=order.pk).update(stock_reserved=True, stock_reserved_at=timezone.now())
    order.refresh_from_db()
    return order


def stock_of(order) -> int:
    return Book.objects.get(pk=order.items.get().book_id).stock


def refund(client, order, amount: str, restock: bool):
    data = {"amount": amount, "reason": "Lost in the post", "refund_count": "0"}
    if restock:
        data["restock"] = "on"
    return client.post(reverse("admin:orders_order_refund", args=[order.pk]), data)


def test_the_form_offers_to_put_the_copies_back(client, clerk, order_holding_copies):
    page = client.get(reverse("admin:orders_order_refund", args=[order_holding_copies.pk]))
    assert "Put 1 copy back in stock" in page.content.decode()


def test_no_offer_when_the_order_holds_no_copies(client, clerk):
    order = paid_order_on_emulator(total_amount=2300)
    page = client.get(reverse("admin:orders_order_refund", args=[order.pk]))
    assert "back in stock" not in page.content.decode()


def test_a_full_refund_with_the_box_ticked_restocks_once(client, clerk, order_holding_copies):
    before = stock_of(order_holding_copies)

    response = refund(client, order_holding_copies, "23.00", restock=True)

    assert response.status_code == 302
    order_holding_copies.refresh_from_db()
    assert not order_holding_copies.stock_reserved
    assert stock_of(order_holding_copies) == before + 1


@pytest.mark.parametrize(("amount", "restock"), [("23.00", False), ("5.00", True)])
def test_no_restock_unless_asked_and_full(client, clerk, order_holding_copies, amount, restock):
    before = stock_of(order_holding_copies)
    assert refund(client, order_holding_copies, amount, restock=restock).status_code == 302
    order_holding_copies.refresh_from_db()
    assert order_holding_copies.stock_reserved
    assert stock_of(order_holding_copies) == before


@pytest.mark.parametrize("fulfilment", ["shipped", "delivered"])
def test_no_offer_once_the_copies_have_left_and_the_page_says_why(
    client, clerk, order_holding_copies, fulfilment
):
    Order.objects.filter(pk=order_holding_copies.pk).update(fulfilment_status=fulfilment)
    before = stock_of(order_holding_copies)
    page = client.get(reverse("admin:orders_order_refund", args=[order_holding_copies.pk])).content.decode()
    assert "back in stock" not in page
    assert "The books have left the shop" in page

    response = refund(client, order_holding_copies, "23.00", restock=True)  # a stale form's box: ignored
    assert response.status_code == 302
    assert stock_of(order_holding_copies) == before
