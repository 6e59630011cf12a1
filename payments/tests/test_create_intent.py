"""POST /payments/create-intent/ against the real emulator (localstripe over HTTP)."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from payments.tests.checkout import SHIPPING, one_book_body
from payments.tests.emulator import payment_intent_pay
from payments.tests.fakes import CONNECTION_REFUSED, TIMEOUT
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.addresses import address_lines
from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

URL = reverse("payments:create_intent")


def post_json(client: Client, body) -> tuple[int, dict]:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post(URL, data=raw, content_type="application/json")
    return response.status_code, response.json()


def test_creates_pending_order_and_one_payment_intent_priced_from_the_database(client, book, emulator_client):
    status, data = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200, data
    order = Order.objects.get()
    assert data["orderNumber"] == order.number
    assert order.status == OrderStatus.PENDING
    assert (order.email, order.total_amount, order.currency) == ("ada@example.com", 2799, "usd")
    item = order.items.get()
    assert (item.book, item.title, item.unit_amount, item.quantity) == (book, book.title, 2300, 1)
    intent = emulator_client.v1.payment_intents.retrieve(order.payment_intent_id)
    assert data["clientSecret"] == intent.client_secret
    assert (intent.amount, intent.currency) == (2799, "usd")
    assert intent.metadata.to_dict() == {"order_id": str(order.pk), "order_number": order.number}
    assert order.shipping_amount == 499
    assert address_lines(order) == [
        "Ada Lovelace",
        "12 St James's Square",
        "Flat 3",
        "LONDON",
        "SW1Y 4JH",
        "UNITED KINGDOM",
    ]
    assert order.shipping_phone == "+44 20 7946 0000"
    assert intent.shipping.name == "Ada Lovelace"
    assert intent.shipping.address.postal_code == "SW1Y 4JH"
    assert order.stock_reserved and Book.objects.get(pk=book.pk).stock == book.stock - 1


def test_the_address_is_checked_against_its_country_and_kept_normalised(client, book, stripe_emulator):
    wrong = SHIPPING | {"address": {**SHIPPING["address"], "postal_code": "90210"}}
    status, data = post_json(client, one_book_body(book, "ada@example.com", shipping=wrong))
    assert status == 400
    assert data == {
        "error": "Enter a valid postal code for the United Kingdom, like EC1Y 8SY.",
        "field": "shipping.address.postal_code",
    }
    assert not Order.objects.exists()

    us = {"line1": "1000 N Glebe Rd", "city": "Arlington", "state": "Virginia", "postal_code": "22201"}
    shipping = SHIPPING | {"address": us | {"country": "US"}}
    status, _ = post_json(client, one_book_body(book, "grace@example.com", shipping=shipping))
    assert status == 200
    order = Order.objects.get()
    assert (order.shipping_state, order.shipping_country) == ("VA", "US")
    assert address_lines(order)[-2:] == ["ARLINGTON, VA 22201", "UNITED STATES"]


def test_buying_now_several_copies_orders_that_many(client, book, emulator_client):
    body = one_book_body(book, "ada@example.com", quantity=3, expected_total=3 * 2300)  # free shipping
    status, data = post_json(client, body)
    assert status == 200, data
    order = Order.objects.get()
    assert list(order.items.values_list("quantity", "unit_amount")) == [(3, 2300)]
    assert emulator_client.v1.payment_intents.retrieve(order.payment_intent_id).amount == 6900

    status, data = post_json(client, one_book_body(book, "ada@example.com", quantity=2.5))
    assert (status, data["field"]) == (400, "quantity")


def test_amounts_sent_by_the_browser_are_ignored(client, book, emulator_client):
    status, data = post_json(
        client,
        one_book_body(book, "eve@example.com")
        | {
            "amount": 1,
            "price": 1,
            "currency": "jpy",
            "total": 1,
        },
    )

    assert status == 200
    order = Order.objects.get()
    assert (order.total_amount, order.currency) == (2799, "usd")
    intent = emulator_client.v1.payment_intents.retrieve(order.payment_intent_id)
    assert (intent.amount, intent.currency) == (2799, "usd")


def test_same_session_retry_reuses_the_order_and_payment_intent(client, book, stripe_emulator):
    _, first = post_json(client, one_book_body(book, "ada@example.com"))
    _, second = post_json(client, one_book_body(book, "ada.lovelace@example.com"))

    assert Order.objects.count() == 1
    assert second == first
    assert Order.objects.get().email == "ada.lovelace@example.com"


def test_other_book_or_other_session_gets_its_own_order(client, book, stripe_emulator):
    other_book = BookFactory(slug="other", price_amount=2500)
    _, first = post_json(client, one_book_body(book, "ada@example.com"))
    _, second = post_json(client, one_book_body(other_book, "ada@example.com"))
    _, third = post_json(Client(), one_book_body(book, "ada@example.com"))

    assert len({first["orderNumber"], second["orderNumber"], third["orderNumber"]}) == 3
    assert len(set(Order.objects.values_list("payment_intent_id", flat=True))) == 3


def test_after_a_decline_the_retry_reuses_the_failed_order(client, book, stripe_emulator):
    _, first = post_json(client, one_book_body(book, "ada@example.com"))
    order = Order.objects.get()
    payment_intent_pay(order.payment_intent_id, "pm_card_chargeCustomerFail")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.FAILED)  # as the webhook would

    status, second = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200
    assert second == first
    assert Order.objects.count() == 1


def test_once_paid_the_order_is_not_reused(client, book, stripe_emulator):
    _, first = post_json(client, one_book_body(book, "ada@example.com"))
    payment_intent_pay(Order.objects.get().payment_intent_id)
    Order.objects.update(status=OrderStatus.PAID)

    status, second = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200
    assert second["orderNumber"] != first["orderNumber"]
    assert Order.objects.count() == 2


def test_paid_on_stripe_before_we_heard_refuses_to_charge_twice(client, book, stripe_emulator):
    post_json(client, one_book_body(book, "ada@example.com"))
    order = Order.objects.get()
    payment_intent_pay(order.payment_intent_id)  # webhook not processed yet

    status, data = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 409
    assert "already been paid" in data["error"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Order.objects.count() == 1


def test_a_price_change_closes_the_old_open_order(client, book, stripe_emulator):
    _, first = post_json(client, one_book_body(book, "ada@example.com"))
    book.price_amount = 2600
    book.save()

    _, second = post_json(client, one_book_body(book, "ada@example.com"))

    assert second["orderNumber"] != first["orderNumber"]
    assert Order.objects.get(number=first["orderNumber"]).status == OrderStatus.CANCELED
    assert Order.objects.get(number=second["orderNumber"]).total_amount == 3099


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("not json", 400, "must be JSON"),
        ("[1, 2]", 400, "JSON object"),
        ({"email": "ada@example.com", "shipping": SHIPPING, "expected_total": 2799}, 409, "cart is empty"),
        ({"book": "hamming", "shipping": SHIPPING, "expected_total": 2799}, 400, "Enter your email"),
        ({"book": "hamming", "email": "not-an-email"}, 400, "valid email"),
        (
            {"book": "no-such-book", "email": "a@example.com", "shipping": SHIPPING, "expected_total": 1},
            404,
            "not available",
        ),
        ({"book": "../../etc", "email": "ada@example.com"}, 400, "slug"),
        ({"book": "hamming", "email": "a@example.com", "expected_total": 2799}, 400, "name to ship"),
        ({"book": "hamming", "email": "a@example.com", "shipping": SHIPPING}, 400, "total you saw"),
        (
            {"book": "hamming", "email": "a@example.com", "shipping": SHIPPING, "expected_total": "2799"},
            400,
            "total you saw",
        ),
    ],
)
def test_bad_requests_get_a_readable_4xx_and_create_nothing(client, book, body, status, message):
    got_status, data = post_json(client, body)

    assert got_status == status
    assert message.lower() in data["error"].lower()
    assert not Order.objects.exists()


def test_inactive_book_is_not_sold(client, stripe_emulator):
    BookFactory(slug="retired", is_active=False)
    status, data = post_json(
        client, {"book": "retired", "email": "a@example.com", "shipping": SHIPPING, "expected_total": 1}
    )
    assert status == 404
    assert not Order.objects.exists()


def test_wrong_method_is_a_json_405(client, book):
    response = client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "POST" in response.json()["error"]


def test_csrf_is_enforced_with_a_json_answer(book):
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, data={"book": book.slug}, content_type="application/json")
    assert response.status_code == 403
    assert "session expired" in response.json()["error"]
    assert not Order.objects.exists()


def test_missing_stripe_key_is_a_503_not_a_500(client, book, settings):
    settings.STRIPE_SECRET_KEY = ""
    status, data = post_json(client, one_book_body(book, "ada@example.com"))
    assert status == 503
    assert "not configured" in data["error"]


@pytest.mark.parametrize("failure", [TIMEOUT, CONNECTION_REFUSED, 500, 503, 429])
def test_stripe_outage_answers_503_and_keeps_the_order_for_the_retry(
    client, book, stripe_emulator, stripe_outage, failure
):
    outage = stripe_outage(failure, then_real=True)
    client.session.save()  # a shopper whose session exists already (a cart, an earlier attempt)

    status, data = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 503
    assert "could not reach our payment provider" in data["error"].lower()
    order = Order.objects.get()
    assert (order.status, order.payment_intent_id) == (OrderStatus.PENDING, None)
    assert len(outage.requests) == 1

    status, data = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200
    assert data["orderNumber"] == order.number
    order.refresh_from_db()
    assert order.payment_intent_id.startswith("pi_")


def test_a_new_visitors_retry_after_an_outage_gets_a_payable_order(
    client, book, stripe_emulator, stripe_outage
):
    stripe_outage(503, then_real=True)
    client.get(reverse("payments:checkout", args=[book.slug]))  # the page starts no session

    status, _ = post_json(client, one_book_body(book, "ada@example.com"))
    assert status == 503
    status, data = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200
    paid_for = Order.objects.get(number=data["orderNumber"])
    assert paid_for.payment_intent_id.startswith("pi_")
    # Django sends no session cookie with a 5xx: the first attempt's order is another
    # session's, unpaid and without a PaymentIntent, left for sync_payments to cancel.
    left = Order.objects.exclude(pk=paid_for.pk).get()
    assert (left.status, left.payment_intent_id) == (OrderStatus.PENDING, None)


def test_stripe_refusal_is_a_502(client, book, stripe_emulator, stripe_outage):
    stripe_outage(400)
    status, data = post_json(client, one_book_body(book, "ada@example.com"))
    assert status == 502
    assert data["error"]


def test_configured_retries_ride_out_a_blip(client, book, stripe_emulator, stripe_outage, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    outage = stripe_outage(TIMEOUT, then_real=True)

    status, _ = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200
    assert len(outage.requests) == 2  # one timeout, one retry that reached the emulator


def test_query_budget_is_small_and_constant(client, book, stripe_emulator, assert_max_queries):
    # The first payment attempt starts the shopper's session (opening the page does not).
    client.get(reverse("payments:checkout", args=[book.slug]))
    # 16 with PostgreSQL's lock on the client's address and the count of what it holds.
    with assert_max_queries(16):
        status, _ = post_json(client, one_book_body(book, "ada@example.com"))
    assert status == 200

    OrderFactory.create_batch(30)
    other = Client()
    other.get(reverse("payments:checkout", args=[book.slug]))
    with assert_max_queries(16):
        status, _ = post_json(other, one_book_body(book, "bob@example.com"))
    assert status == 200
    with assert_max_queries(6):
        status, _ = post_json(client, one_book_body(book, "ada@example.com"))  # reuse
    assert status == 200


def test_an_intent_stripe_no_longer_knows_gets_a_fresh_order(client, book, stripe_emulator):
    # e.g. the keys now point at another account, or the local emulator restarted
    _, first = post_json(client, one_book_body(book, "ada@example.com"))
    Order.objects.update(payment_intent_id="pi_unknown_to_stripe")

    status, second = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200
    assert second["orderNumber"] != first["orderNumber"]
    old = Order.objects.get(number=first["orderNumber"])
    assert old.status == OrderStatus.CANCELED
    assert old.status_changes.last().cause == "payment intent not found on Stripe"
