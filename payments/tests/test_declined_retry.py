"""A declined card never locks the shopper out of the copies their own unpaid order holds (cart checkout)."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from payments.services.intents import order_apply_payment_intent
from payments.tests.checkout import cart_body
from payments.tests.emulator import payment_intent_pay
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

URL = reverse("payments:create_intent")
DECLINED = "pm_card_chargeCustomerFail"


def post_json(client: Client, body) -> tuple[int, dict]:
    response = client.post(URL, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def fill_cart(client: Client, lines) -> None:
    for book, quantity in lines:
        assert client.post(reverse("cart:add"), {"book": book.slug, "quantity": quantity}).status_code == 302


def stock(book) -> int:
    return Book.objects.get(pk=book.pk).stock


def declined(number: str) -> Order:
    """The shopper's card is declined and the shop hears of it (as from the webhook)."""
    order = Order.objects.get(number=number)
    intent = payment_intent_pay(order.payment_intent_id, DECLINED)
    order = order_apply_payment_intent(order=order, intent=intent, cause="test").order
    assert order.status == OrderStatus.FAILED and order.stock_reserved
    return order


def test_paying_again_after_a_decline_reuses_the_order_holding_the_last_copies(client, stripe_emulator):
    book = BookFactory(slug="hamming", title="Hamming", price_amount=2300, stock=2)
    fill_cart(client, [(book, 2)])
    _, first = post_json(client, cart_body([(book, 2)], "ada@example.com"))
    declined(first["orderNumber"])
    assert stock(book) == 0

    page = client.get(reverse("payments:cart_checkout"))
    status, second = post_json(client, cart_body([(book, 2)], "ada@example.com"))

    assert page.status_code == 200  # not sent back to a cart that says sold out
    assert 'id="pay-button"' in page.content.decode()
    assert status == 200, second
    assert second == first
    assert Order.objects.count() == 1
    assert stock(book) == 0  # held once, by the same order


def test_another_shopper_still_finds_the_copies_held(client, stripe_emulator):
    book = BookFactory(slug="hamming", title="Hamming", price_amount=2300, stock=1)
    fill_cart(client, [(book, 1)])
    _, first = post_json(client, cart_body([(book, 1)], "ada@example.com"))
    declined(first["orderNumber"])
    other = Client()
    fill_cart(other, [(BookFactory(stock=5), 1)])  # a cart of their own
    assert other.post(reverse("cart:add"), {"book": book.slug, "quantity": 1}).status_code == 409

    assert other.get(reverse("payments:checkout", args=[book.slug])).status_code == 200
    assert stock(book) == 0


def test_a_changed_cart_after_a_decline_hands_the_copies_to_the_new_order(client, stripe_emulator):
    hamming = BookFactory(slug="hamming", title="Hamming", price_amount=2300, stock=2)
    tufte = BookFactory(slug="tufte", title="Tufte", price_amount=1200, stock=1)
    fill_cart(client, [(hamming, 2)])
    _, first = post_json(client, cart_body([(hamming, 2)], "ada@example.com"))
    declined(first["orderNumber"])
    fill_cart(client, [(tufte, 1)])

    status, second = post_json(client, cart_body([(hamming, 2), (tufte, 1)], "ada@example.com"))

    assert status == 200, second
    old, new = Order.objects.get(number=first["orderNumber"]), Order.objects.get(number=second["orderNumber"])
    assert old.status == OrderStatus.CANCELED and not old.stock_reserved
    assert new.stock_reserved and (stock(hamming), stock(tufte)) == (0, 0)


def test_when_stripe_fails_the_replaced_order_keeps_its_copies(client, stripe_emulator, stripe_outage):
    hamming = BookFactory(slug="hamming", title="Hamming", price_amount=2300, stock=4)
    tufte = BookFactory(slug="tufte", title="Tufte", price_amount=1200, stock=1)
    fill_cart(client, [(hamming, 2)])
    _, first = post_json(client, cart_body([(hamming, 2)], "ada@example.com"))
    declined(first["orderNumber"])
    fill_cart(client, [(tufte, 1)])
    stripe_outage(503)

    status, _ = post_json(client, cart_body([(hamming, 2), (tufte, 1)], "ada@example.com"))

    assert status == 503
    old = Order.objects.get(number=first["orderNumber"])
    assert (old.status, old.stock_reserved) == (OrderStatus.FAILED, True)
    assert (stock(hamming), stock(tufte)) == (2, 1)
    assert Order.objects.count() == 1
