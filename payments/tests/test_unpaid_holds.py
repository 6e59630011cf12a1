"""What unpaid checkouts may hold: UNPAID_COPIES_PER_CLIENT copies per client address, for
STOCK_RESERVATION_MINUTES, then `release_expired_holds` (every minute) gives them back."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.tests.checkout import cart_body
from payments.tests.fakes import TIMEOUT
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderStatus
from tests.postgres import postgres_only, run_at_once

pytestmark = pytest.mark.django_db

URL = reverse("payments:create_intent")


def shopper(book, quantity: int, address: str = "127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=address)
    assert client.post(reverse("cart:add"), {"book": book.slug, "quantity": quantity}).status_code == 302
    return client


def pay(client: Client, book, quantity: int):
    body = cart_body([(book, quantity)], "ada@example.com")
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def stock(book) -> int:
    return Book.objects.get(pk=book.pk).stock


@pytest.fixture
def book(db):
    return BookFactory(slug="hamming", title="Hamming", price_amount=900, stock=40)


def test_one_address_holds_at_most_ten_unpaid_copies(book, stripe_emulator, settings):
    settings.CHECKOUT_RATE_LIMIT_PER_IP = 1000
    assert pay(shopper(book, 8), book, 8).status_code == 200

    refused = pay(shopper(book, 3), book, 3)

    assert refused.status_code == 429
    assert "10 copies" in refused.json()["error"] and refused.json()["limit"] == 10
    assert refused["Retry-After"] == str(settings.STOCK_RESERVATION_MINUTES * 60)
    assert stock(book) == 32  # nothing more reserved
    assert Order.objects.filter(stock_reserved=True).count() == 1
    assert pay(shopper(book, 2), book, 2).status_code == 200  # up to the limit
    assert pay(shopper(book, 3, address="192.0.2.7"), book, 3).status_code == 200  # another address
    assert stock(book) == 27


def test_the_shoppers_own_hold_is_not_counted_twice_and_paid_orders_not_at_all(book, stripe_emulator):
    client = shopper(book, 10)
    first = pay(client, book, 10)
    assert first.status_code == 200
    assert pay(client, book, 10).json() == first.json()  # a retry of the same order

    Order.objects.update(status=OrderStatus.PAID)

    assert pay(shopper(book, 3), book, 3).status_code == 200


def test_an_ipv6_client_counts_as_its_whole_64(book, stripe_emulator):
    assert pay(shopper(book, 8, address="2001:db8:1:2::10"), book, 8).status_code == 200
    assert pay(shopper(book, 3, address="2001:db8:1:2::99"), book, 3).status_code == 429


@postgres_only
def test_concurrent_checkouts_from_one_address_stay_within_the_limit(
    transactional_db, stripe_emulator, settings
):
    settings.CHECKOUT_RATE_LIMIT_PER_IP = 1000
    book = BookFactory(stock=40, price_amount=900)
    clients = [shopper(book, 3) for _ in range(6)]

    results = run_at_once(*[lambda c=c: pay(c, book, 3).status_code for c in clients])

    assert sorted(results) == [200, 200, 200, 429, 429, 429], results
    assert stock(book) == 31


def hold(book, quantity: int, minutes_ago: int) -> Order:
    client = shopper(book, quantity)
    assert pay(client, book, quantity).status_code == 200
    order = Order.objects.get(stock_reserved=True, cart__session_id=client.session.session_key)
    Order.objects.filter(pk=order.pk).update(
        stock_reserved_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return order


def test_expired_holds_are_released_by_the_every_minute_job(book, emulator_client, settings):
    minutes = settings.STOCK_RESERVATION_MINUTES
    expired, fresh = hold(book, 2, minutes_ago=minutes + 1), hold(book, 3, minutes_ago=minutes - 1)

    call_command("release_expired_holds", stdout=io.StringIO())
    call_command("release_expired_holds", stdout=io.StringIO())  # again: nothing more

    expired.refresh_from_db(), fresh.refresh_from_db()
    assert (expired.status, expired.stock_reserved) == (OrderStatus.CANCELED, False)
    assert emulator_client.v1.payment_intents.retrieve(expired.payment_intent_id).status == "canceled"
    assert (fresh.status, fresh.stock_reserved) == (OrderStatus.PENDING, True)
    assert stock(book) == 37


def test_stripe_down_the_copies_go_back_all_the_same(book, stripe_emulator, stripe_outage, settings):
    minutes = settings.STOCK_RESERVATION_MINUTES
    first, second = hold(book, 2, minutes_ago=minutes + 2), hold(book, 1, minutes_ago=minutes + 1)
    outage = stripe_outage(TIMEOUT)

    call_command("release_expired_holds", stdout=io.StringIO())

    for order in (first, second):
        order.refresh_from_db()
        assert (order.status, order.stock_reserved) == (OrderStatus.CANCELED, False)
        assert order.payment_intent_cancel_pending  # sync_payments cancels it on Stripe later
    assert stock(book) == 40
    assert len(outage.requests) == 1  # Stripe was asked once, not once per order
