"""Reservations run out: sync_payments cancels the order and its PaymentIntent and puts the copies back;
a payment that still arrives takes the copies if they are there, or flags the order."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.services.intents import order_apply_payment_intent
from payments.services.reconciliation import payments_sync
from payments.tests.checkout import one_book_body
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderStatus
from shop.orders.services import OUT_OF_STOCK_AFTER_PAYMENT

pytestmark = pytest.mark.django_db


def start_checkout(client: Client, book) -> Order:
    response = client.post(
        reverse("payments:create_intent"),
        data=json.dumps(one_book_body(book, "ada@example.com")),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return Order.objects.get(number=response.json()["orderNumber"])


def sync() -> list[str]:
    lines: list[str] = []
    payments_sync(older_than=timedelta(0), abandon_after=None, report=lines.append)
    return lines


def stock(book) -> int:
    return Book.objects.get(pk=book.pk).stock


def age_reservation(order: Order, minutes: int) -> None:
    Order.objects.filter(pk=order.pk).update(stock_reserved_at=timezone.now() - timedelta(minutes=minutes))


def test_an_expired_reservation_is_released_once_and_its_intent_canceled(client, emulator_client):
    book = BookFactory(stock=2)
    order = start_checkout(client, book)
    assert stock(book) == 1
    age_reservation(order, 31)

    sync()
    sync()  # a second run changes nothing

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert not order.stock_reserved
    assert stock(book) == 2
    assert emulator_client.v1.payment_intents.retrieve(order.payment_intent_id).status == "canceled"


def test_a_fresh_reservation_is_kept(client, stripe_emulator):
    book = BookFactory(stock=2)
    order = start_checkout(client, book)
    age_reservation(order, 29)

    sync()

    order.refresh_from_db()
    assert (order.status, order.stock_reserved, stock(book)) == (OrderStatus.PENDING, True, 1)


def succeeded(order: Order) -> dict:
    return {
        "id": order.payment_intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": order.total_amount,
        "amount_received": order.total_amount,
        "currency": order.currency,
        "metadata": {"order_id": str(order.pk), "order_number": order.number},
    }


def released_order(client, book) -> Order:
    order = start_checkout(client, book)
    age_reservation(order, 31)
    sync()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and not order.stock_reserved
    return order


def test_a_payment_after_release_takes_the_copies_if_they_are_there(client, stripe_emulator):
    book = BookFactory(stock=1)
    order = released_order(client, book)

    applied = order_apply_payment_intent(order=order, intent=succeeded(order), cause="test")

    order.refresh_from_db()
    assert applied.flagged
    assert "after the order was canceled" in order.review_reason  # not "amount differs"
    assert "Stripe reported" not in order.review_reason
    assert order.stock_reserved and stock(book) == 0


def test_a_payment_after_release_with_no_copies_left_is_flagged(client, stripe_emulator):
    book = BookFactory(stock=1)
    order = released_order(client, book)
    Book.objects.filter(pk=book.pk).update(stock=0)  # someone else bought it

    order_apply_payment_intent(order=order, intent=succeeded(order), cause="test")

    order.refresh_from_db()
    assert OUT_OF_STOCK_AFTER_PAYMENT in order.review_reason
    assert not order.stock_reserved and stock(book) == 0  # never below zero


def test_an_abandoned_failed_order_releases_its_copies(client, emulator_client):
    book = BookFactory(stock=3)
    order = start_checkout(client, book)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.FAILED)
    age_reservation(order, 45)

    sync()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and stock(book) == 3
