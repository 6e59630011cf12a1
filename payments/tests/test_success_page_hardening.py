"""Issue 9 items 6 and 7: ownership is checked before Stripe is asked; the database's truth
is shown when Stripe cannot answer."""

import hashlib
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.client_secrets import client_secret_digest
from payments.tests.checkout import one_book_body
from payments.tests.emulator import payment_intent_pay
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

SUCCESS_URL = reverse("payments:success")
NOT_CHARGED = ("nothing was charged", "not been charged")


@pytest.fixture
def checkout(client, book, stripe_emulator):
    """A shopper who started paying for `book`: (order, client_secret)."""
    client.get(reverse("payments:checkout", args=[book.slug]))
    response = client.post(
        reverse("payments:create_intent"),
        data=json.dumps(one_book_body(book, "ada@example.com")),
        content_type="application/json",
    )
    assert response.status_code == 200
    return Order.objects.get(), response.json()["clientSecret"]


def visit(payment_intent_id: str, client_secret: str):
    return Client().get(
        SUCCESS_URL, {"payment_intent": payment_intent_id, "payment_intent_client_secret": client_secret}
    )


def test_the_order_keeps_a_digest_of_its_client_secret_not_the_secret(checkout):
    order, client_secret = checkout

    assert order.client_secret_hash == hashlib.sha256(client_secret.encode()).hexdigest()
    assert client_secret not in str(Order.objects.filter(pk=order.pk).values().get())


@pytest.mark.parametrize(
    "guess",
    ["{pi}_secret_junk", "{pi}_secret_", "junk", ""],
    ids=["well-formed-guess", "empty-random-part", "junk", "none"],
)
def test_strangers_with_a_junk_secret_cost_no_stripe_call(checkout, stripe_outage, guess):
    order, _ = checkout
    stripe = stripe_outage(then_real=True)  # every call goes to the emulator and is counted

    statuses = {
        visit(order.payment_intent_id, guess.format(pi=order.payment_intent_id)).status_code
        for _ in range(20)
    }

    assert statuses == {404}
    assert stripe.requests == []


def test_the_payer_with_the_right_secret_costs_one_stripe_call(checkout, stripe_outage):
    order, client_secret = checkout
    payment_intent_pay(order.payment_intent_id)
    stripe = stripe_outage(then_real=True)

    response = visit(order.payment_intent_id, client_secret)

    assert response.context["confirmation"].outcome == "succeeded"
    assert len(stripe.requests) == 1


def test_orders_from_before_the_digest_are_still_checked_against_stripe(checkout, stripe_outage):
    order, client_secret = checkout
    Order.objects.filter(pk=order.pk).update(client_secret_hash="")
    stripe = stripe_outage(then_real=True)

    assert visit(order.payment_intent_id, f"{order.payment_intent_id}_secret_junk").status_code == 404
    assert visit(order.payment_intent_id, client_secret).status_code == 200
    assert len(stripe.requests) == 2


def test_the_success_page_is_rate_limited_per_client(checkout, settings):
    order, client_secret = checkout
    settings.SUCCESS_PAGE_RATE_LIMIT_PER_IP = 3

    statuses = [visit(order.payment_intent_id, "junk").status_code for _ in range(4)]
    blocked = visit(order.payment_intent_id, client_secret)

    assert statuses == [404, 404, 404, 429]
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0


def recorded_order(status: str, **fields) -> tuple[Order, str]:
    """An order the database knows the outcome of, its PaymentIntent unknown to Stripe's emulator."""
    order = OrderFactory(total_amount=2300, currency="usd", status=status, **fields)
    secret = f"{order.payment_intent_id}_secret_abc"
    Order.objects.filter(pk=order.pk).update(client_secret_hash=client_secret_digest(secret))
    return order, secret


@pytest.mark.parametrize("stripe_answer", ["outage", "forgot"])
def test_a_paid_order_is_shown_paid_when_stripe_cannot_say(stripe_emulator, stripe_outage, stripe_answer):
    order, secret = recorded_order(OrderStatus.PAID, amount_received=2300, paid_at=timezone.now())
    if stripe_answer == "outage":
        stripe_outage(500)
    # "forgot": the emulator restarted and answers 404 for the PaymentIntent

    response = visit(order.payment_intent_id, secret)

    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["confirmation"].outcome == "succeeded"
    assert order.number in page and "$23.00" in page
    assert "what our own records show" in page
    assert not any(text in page.lower() for text in NOT_CHARGED)


def test_a_refunded_order_is_shown_with_its_refund_when_stripe_is_down(stripe_outage):
    order, secret = recorded_order(
        OrderStatus.REFUNDED, amount_received=2300, amount_refunded=2300, paid_at=timezone.now()
    )
    stripe_outage(500)

    response = visit(order.payment_intent_id, secret)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="amount-refunded"' in page
    assert not any(text in page.lower() for text in NOT_CHARGED)


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.FAILED])
def test_an_unknown_outcome_is_being_confirmed_without_saying_nothing_was_charged(stripe_outage, status):
    order, secret = recorded_order(status)
    stripe_outage(500)

    response = visit(order.payment_intent_id, secret)

    assert response.status_code == 200
    assert response["Refresh"] == "5"
    page = response.content.decode()
    assert "We are confirming your payment" in page and order.number in page
    assert not any(text in page.lower() for text in NOT_CHARGED)
