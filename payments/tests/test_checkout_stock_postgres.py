"""Twenty shoppers press Pay for the last three copies at once, on PostgreSQL, against the emulator."""

import json

from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from payments.tests.checkout import cart_body
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderItem, OrderStatus
from tests.postgres import postgres_only, run_at_once

SHOPPERS = 20
STOCK = 3


def shopper_with_the_book_in_cart(book) -> Client:
    shopper = Client()
    assert shopper.post(reverse("cart:add"), {"book": book.slug, "quantity": 1}).status_code == 302
    return shopper


def press_pay(shopper: Client, body: dict):
    def pay() -> tuple[int, dict]:
        response = shopper.post(
            reverse("payments:create_intent"), data=json.dumps(body), content_type="application/json"
        )
        return response.status_code, response.json()

    return pay


@postgres_only
def test_twenty_shoppers_pay_for_the_last_three_copies(transactional_db, stripe_emulator, settings):
    settings.CHECKOUT_RATE_LIMIT_PER_IP = 1000  # twenty shoppers behind one address
    book = BookFactory(stock=STOCK, price_amount=2300)
    shoppers = [shopper_with_the_book_in_cart(book) for _ in range(SHOPPERS)]
    body = cart_body([(book, 1)], "reader@example.com")

    results = run_at_once(*[press_pay(shopper, body) for shopper in shoppers])

    assert all(isinstance(result, tuple) for result in results), results
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * STOCK + [409] * (SHOPPERS - STOCK), results
    refusals = [data for status, data in results if status == 409]
    assert all("sold out" in data["error"] for data in refusals), refusals
    with_intent = Order.objects.exclude(payment_intent_id=None)
    assert with_intent.count() == STOCK
    assert all(order.stock_reserved for order in with_intent)
    book.refresh_from_db()
    assert book.stock == 0
    # Every copy is accounted for: on hand + held by unpaid orders + sold = what there was.
    held = OrderItem.objects.filter(order__stock_reserved=True, book=book)
    reserved = held.exclude(order__status=OrderStatus.PAID).aggregate(n=Sum("quantity"))["n"] or 0
    sold = held.filter(order__status=OrderStatus.PAID).aggregate(n=Sum("quantity"))["n"] or 0
    assert book.stock + reserved + sold == STOCK
    assert Book.objects.filter(stock__lt=0).count() == 0
