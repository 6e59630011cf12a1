"""Twenty shoppers press Pay with a code that has three uses left, at once, on PostgreSQL and the emulator."""

import json

from django.test import Client
from django.urls import reverse

from payments.tests.checkout import one_book_body
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order
from shop.vouchers.models import Voucher
from shop.vouchers.tests.factories import VoucherFactory
from tests.postgres import postgres_only, run_at_once

SHOPPERS = 20
USES_LEFT = 3


def press_pay(body: dict):
    def pay() -> tuple[int, dict]:
        response = Client().post(
            reverse("payments:create_intent"), data=json.dumps(body), content_type="application/json"
        )
        return response.status_code, response.json()

    return pay


@postgres_only
def test_twenty_shoppers_race_for_the_last_three_uses(transactional_db, stripe_emulator, settings):
    settings.CHECKOUT_RATE_LIMIT_PER_IP = 1000  # twenty shoppers behind one address
    settings.UNPAID_COPIES_PER_CLIENT = 0  # no lock per address: the shoppers race on the code alone
    book = BookFactory(stock=50, price_amount=2300)
    voucher = VoucherFactory(code="LAST3", value=10, max_uses=10, uses_count=10 - USES_LEFT)
    bodies = [
        one_book_body(book, f"shopper{n}@example.com", voucher_code="LAST3", expected_total=2569)
        for n in range(SHOPPERS)
    ]

    results = run_at_once(*[press_pay(body) for body in bodies])

    assert all(isinstance(result, tuple) for result in results), results
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * USES_LEFT + [409] * (SHOPPERS - USES_LEFT), results
    refusals = [data for status, data in results if status == 409]
    assert all(data["error"] == "The discount code LAST3 has been used up." for data in refusals), refusals
    with_intent = Order.objects.exclude(payment_intent_id=None)
    assert with_intent.count() == USES_LEFT
    assert all(order.voucher_use_held and order.total_amount == 2569 for order in with_intent)
    assert Order.objects.filter(voucher_use_held=True).count() == USES_LEFT
    assert Voucher.objects.get(pk=voucher.pk).uses_count == 10
    assert Book.objects.get(pk=book.pk).stock == 50 - USES_LEFT  # the refused shoppers' copies went back
    paid_with_code = [
        intent
        for intent in stripe_emulator_intents()
        if (intent.get("metadata") or {}).get("discount_code") == "LAST3"
    ]
    assert sorted(intent["id"] for intent in paid_with_code) == sorted(
        o.payment_intent_id for o in with_intent
    )


def stripe_emulator_intents() -> list[dict]:
    """Every PaymentIntent the emulator holds, read from it (not through the shop)."""
    from payments.stripe_client import stripe_client

    listing = stripe_client().v1.payment_intents.list(params={"limit": 100})
    return [intent.to_dict() for intent in listing.auto_paging_iter()]
