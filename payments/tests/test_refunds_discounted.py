"""Refunds of a discounted order: capped by what was charged; a full refund may give the code's use back."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from payments.services.intents import order_apply_payment_intent
from payments.tests.checkout import one_book_body
from payments.tests.emulator import emulator_refunds, payment_intent_pay, staff_user
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderStatus
from shop.vouchers.models import Voucher
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


@pytest.fixture
def voucher(db):
    return VoucherFactory(code="SPRING", value=10, max_uses=100)


@pytest.fixture
def discounted_order(voucher) -> Order:
    """Paid on the emulator through the checkout: $23.00 - $2.30 + $4.99 shipping = $25.69."""
    book = BookFactory(price_amount=2300)
    body = one_book_body(book, "ada@example.com", voucher_code="SPRING", expected_total=2569)
    response = Client().post(
        reverse("payments:create_intent"), data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    order = Order.objects.get()
    order_apply_payment_intent(order=order, intent=payment_intent_pay(order.payment_intent_id), cause="test")
    order.refresh_from_db()
    assert (order.status, order.amount_received, order.voucher_use_held) == (OrderStatus.PAID, 2569, True)
    return order


@pytest.fixture
def clerk(client):
    client.force_login(staff_user())
    return client


def refund(client, order, amount: str, **boxes):
    data = {"amount": amount, "reason": "Changed their mind", "refund_count": "0"}
    data.update({name: "on" for name, ticked in boxes.items() if ticked})
    return client.post(reverse("admin:orders_order_refund", args=[order.pk]), data, follow=True)


def uses(voucher) -> int:
    return Voucher.objects.get(pk=voucher.pk).uses_count


def test_the_refund_page_offers_what_was_charged_and_the_use_back(clerk, discounted_order):
    page = clerk.get(reverse("admin:orders_order_refund", args=[discounted_order.pk])).content.decode()
    assert "$25.69" in page and 'value="25.69"' in page
    assert "Give the use of discount code SPRING back" in page


def test_more_than_was_charged_cannot_be_refunded(clerk, discounted_order):
    response = refund(clerk, discounted_order, "27.99")
    assert "more than the $25.69 that can still be refunded" in response.content.decode()
    assert emulator_refunds(discounted_order.payment_intent_id) == []


def test_a_full_refund_with_the_box_ticked_gives_the_use_back_once(clerk, discounted_order, voucher):
    response = refund(clerk, discounted_order, "25.69", voucher_use_back=True)

    assert "The use of discount code SPRING is back." in response.content.decode()
    discounted_order.refresh_from_db()
    assert (discounted_order.status, discounted_order.voucher_use_held) == (OrderStatus.REFUNDED, False)
    assert uses(voucher) == 0
    page = clerk.get(reverse("admin:orders_order_change", args=[discounted_order.pk])).content.decode()
    assert "−$2.30 with code SPRING (its use given back)" in page


@pytest.mark.parametrize(("amount", "ticked"), [("25.69", False), ("10.00", True)])
def test_the_use_stays_unless_asked_and_full(clerk, discounted_order, voucher, amount, ticked):
    refund(clerk, discounted_order, amount, voucher_use_back=ticked)
    discounted_order.refresh_from_db()
    assert discounted_order.voucher_use_held and uses(voucher) == 1


def test_no_offer_for_an_order_without_a_code(clerk):
    from payments.tests.emulator import paid_order_on_emulator

    order = paid_order_on_emulator(total_amount=2300)
    page = clerk.get(reverse("admin:orders_order_refund", args=[order.pk])).content.decode()
    assert "discount code" not in page
