"""Checking out the cart: POST /payments/create-intent/ without "book", against the emulator."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from payments.services.reconciliation import payments_sync
from payments.tests.checkout import SHIPPING, cart_body, one_book_body, total_for
from payments.tests.emulator import payment_intent_pay
from payments.tests.fakes import REAL, TIMEOUT
from shop.cart.models import CartLine
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

URL = reverse("payments:create_intent")


def post_json(client: Client, body) -> tuple[int, dict]:
    response = client.post(URL, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def fill_cart(client: Client, lines) -> None:
    for book, quantity in lines:
        response = client.post(reverse("cart:add"), {"book": book.slug, "quantity": quantity})
        assert response.status_code == 302


@pytest.fixture
def books(db):
    return (
        BookFactory(slug="hamming", title="Hamming", price_amount=2300, stock=5),
        BookFactory(slug="tufte", title="Tufte", price_amount=1200, stock=5),
    )


def stock(book) -> int:
    return Book.objects.get(pk=book.pk).stock


def test_cart_checkout_orders_every_line_with_shipping_and_reserves_the_copies(
    client, books, emulator_client
):
    hamming, tufte = books
    lines = [(hamming, 1), (tufte, 2)]
    fill_cart(client, lines)

    status, data = post_json(client, cart_body(lines, "ada@example.com"))

    assert status == 200, data
    order = Order.objects.get()
    assert (order.total_amount, order.shipping_amount) == (2300 + 2 * 1200 + 499, 499)
    assert sorted(order.items.values_list("title", "unit_amount", "quantity")) == [
        ("Hamming", 2300, 1),
        ("Tufte", 1200, 2),
    ]
    assert order.cart_id == CartLine.objects.first().cart_id
    assert (order.shipping_name, order.shipping_country) == ("Ada Lovelace", "GB")
    assert order.stock_reserved
    assert (stock(hamming), stock(tufte)) == (4, 3)
    intent = emulator_client.v1.payment_intents.retrieve(order.payment_intent_id)
    assert intent.amount == order.total_amount
    assert intent.shipping.address.city == "London"


def test_free_shipping_from_the_threshold(client, books, stripe_emulator):
    hamming, _ = books
    fill_cart(client, [(hamming, 3)])  # 69.00 >= 50.00
    status, _ = post_json(client, cart_body([(hamming, 3)], "ada@example.com"))
    assert status == 200
    assert (Order.objects.get().shipping_amount, Order.objects.get().total_amount) == (0, 6900)


def test_a_total_the_shopper_did_not_see_is_a_409_and_nothing_is_created(client, books, stripe_emulator):
    hamming, tufte = books
    fill_cart(client, [(hamming, 1)])
    seen = cart_body([(hamming, 1)], "ada@example.com")
    fill_cart(client, [(tufte, 1)])  # another tab added a book

    status, data = post_json(client, seen)

    assert status == 409
    assert data["total"] == total_for([(hamming, 1), (tufte, 1)])
    assert data["totalDisplay"] == "$39.99"
    assert "changed" in data["error"]
    assert not Order.objects.exists()
    assert stock(hamming) == 5


def test_a_changed_cart_cancels_the_old_order_and_its_payment_intent(client, books, emulator_client):
    hamming, tufte = books
    fill_cart(client, [(hamming, 1)])
    _, first = post_json(client, cart_body([(hamming, 1)], "ada@example.com"))
    fill_cart(client, [(tufte, 1)])

    status, second = post_json(client, cart_body([(hamming, 1), (tufte, 1)], "ada@example.com"))

    assert status == 200
    old, new = Order.objects.get(number=first["orderNumber"]), Order.objects.get(number=second["orderNumber"])
    assert old.status == OrderStatus.CANCELED and not old.stock_reserved
    assert not old.payment_intent_cancel_pending
    assert emulator_client.v1.payment_intents.retrieve(old.payment_intent_id).status == "canceled"
    assert new.status == OrderStatus.PENDING and new.items.count() == 2
    assert (stock(hamming), stock(tufte)) == (4, 4)  # the old order's copy went back


def test_a_retry_with_the_same_cart_reuses_the_order(client, books, stripe_emulator):
    hamming, _ = books
    fill_cart(client, [(hamming, 2)])
    _, first = post_json(client, cart_body([(hamming, 2)], "ada@example.com"))
    _, second = post_json(client, cart_body([(hamming, 2)], "ada@example.com"))
    assert first == second
    assert Order.objects.count() == 1
    assert stock(hamming) == 3  # reserved once


def test_a_corrected_address_updates_the_order_and_its_payment_intent(client, books, emulator_client):
    hamming, _ = books
    fill_cart(client, [(hamming, 1)])
    _, first = post_json(client, cart_body([(hamming, 1)], "ada@example.com"))
    moved = SHIPPING | {"address": SHIPPING["address"] | {"city": "Cambridge", "postal_code": "CB2 1TN"}}

    _, second = post_json(client, cart_body([(hamming, 1)], "ada@example.com", shipping=moved))

    assert first == second
    order = Order.objects.get()
    assert (order.shipping_city, order.shipping_postal_code) == ("Cambridge", "CB2 1TN")
    intent = emulator_client.v1.payment_intents.retrieve(order.payment_intent_id)
    assert intent.shipping.address.city == "Cambridge"
    assert "shipping address changed" in order.status_changes.last().cause


def test_too_few_copies_is_a_409_naming_how_many_are_left_and_reserves_nothing(
    client, books, stripe_emulator
):
    hamming, tufte = books
    fill_cart(client, [(hamming, 1), (tufte, 3)])
    Book.objects.filter(pk=tufte.pk).update(stock=2)  # sold elsewhere meanwhile

    status, data = post_json(client, cart_body([(hamming, 1), (tufte, 3)], "ada@example.com"))

    assert status == 409
    assert "Only 2 copies of “Tufte” left." in data["error"]
    assert (stock(hamming), stock(tufte)) == (5, 2)
    assert not Order.objects.filter(stock_reserved=True).exists()
    cart_page = client.get(reverse("cart:page")).content.decode()
    assert "Only 2 copies of “Tufte” left." in cart_page
    assert 'id="checkout-button"' not in cart_page


def test_sold_out_between_order_and_payment_intent_is_a_409(client, books, stripe_emulator):
    hamming, _ = books
    Book.objects.filter(pk=hamming.pk).update(stock=0)
    status, data = post_json(client, one_book_body(hamming, "ada@example.com"))
    assert status == 409
    assert data["outOfStock"] is True
    assert "sold out" in data["error"]
    assert not Order.objects.exclude(payment_intent_id=None).exists()


def test_an_empty_cart_cannot_be_checked_out(client, books, stripe_emulator):
    status, data = post_json(client, cart_body([(books[0], 1)], "ada@example.com"))
    assert status == 409
    assert "empty" in data["error"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "shipping.name"),
        ({"address": {**SHIPPING["address"], "line1": "  "}}, "shipping.address.line1"),
        ({"address": {**SHIPPING["address"], "city": None}}, "shipping.address.city"),
        ({"address": {**SHIPPING["address"], "postal_code": ""}}, "shipping.address.postal_code"),
        ({"address": {**SHIPPING["address"], "postal_code": "90210"}}, "shipping.address.postal_code"),
        ({"address": {**SHIPPING["address"], "country": "US", "state": ""}}, "shipping.address.state"),
        ({"address": {**SHIPPING["address"], "country": "JP"}}, "shipping.address.country"),
        ({"address": {**SHIPPING["address"], "country": "Germany"}}, "shipping.address.country"),
        ({"address": "12 Main St"}, "shipping.address.line1"),
        ({"name": "x" * 201}, "shipping.name"),
    ],
)
def test_a_bad_address_is_a_400_naming_the_field(client, books, change, field):
    hamming, _ = books
    fill_cart(client, [(hamming, 1)])
    status, data = post_json(client, cart_body([(hamming, 1)], "a@example.com", shipping=SHIPPING | change))
    assert status == 400
    assert data["field"] == field
    assert data["error"]
    assert not Order.objects.exists()


def test_the_shipping_countries_setting_limits_the_address(client, books, settings, stripe_emulator):
    settings.SHIPPING_COUNTRIES = ["JP"]
    hamming, _ = books
    japan = SHIPPING | {
        "address": {"line1": "1-1 Chiyoda", "city": "Chiyoda-ku", "state": "Tokyo", "postal_code": "100-0001"}
        | {"country": "jp"}
    }
    status, _ = post_json(client, one_book_body(hamming, "a@example.com", shipping=japan))
    assert status == 200
    assert Order.objects.get().shipping_country == "JP"


def test_a_paid_cart_order_empties_the_cart_and_keeps_its_copies(client, books, stripe_emulator):
    hamming, tufte = books
    fill_cart(client, [(hamming, 1), (tufte, 1)])
    _, data = post_json(client, cart_body([(hamming, 1), (tufte, 1)], "ada@example.com"))
    order = Order.objects.get()
    payment_intent_pay(order.payment_intent_id)

    page = client.get(reverse("payments:success"), {"payment_intent": order.payment_intent_id})

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert not CartLine.objects.exists()
    assert (stock(hamming), stock(tufte)) == (4, 4)
    text = page.content.decode()
    for expected in ("Hamming", "Tufte", "$4.99", "LONDON<br>SW1Y 4JH<br>UNITED KINGDOM"):
        assert expected in text


def test_the_one_book_checkout_leaves_the_cart_alone(client, books, stripe_emulator):
    hamming, tufte = books
    fill_cart(client, [(tufte, 2)])
    _, data = post_json(client, one_book_body(hamming, "ada@example.com"))
    order = Order.objects.get()
    payment_intent_pay(order.payment_intent_id)
    client.get(reverse("payments:success"), {"payment_intent": order.payment_intent_id})

    assert order.cart_id is None
    assert list(CartLine.objects.values_list("book__slug", "quantity")) == [("tufte", 2)]


def test_a_processing_order_is_retried_when_stripe_says_it_needs_a_payment_method(
    client, books, stripe_emulator
):
    hamming, _ = books
    _, first = post_json(client, one_book_body(hamming, "ada@example.com"))
    Order.objects.update(status=OrderStatus.PROCESSING)  # we heard "processing"; Stripe moved back since

    status, second = post_json(client, one_book_body(hamming, "ada@example.com"))

    assert status == 200
    assert second == first


def test_stripe_down_when_canceling_leaves_the_cancel_for_sync_payments(
    client, books, emulator_client, stripe_outage
):
    hamming, tufte = books
    fill_cart(client, [(hamming, 1)])
    _, first = post_json(client, cart_body([(hamming, 1)], "ada@example.com"))
    old = Order.objects.get(number=first["orderNumber"])
    fill_cart(client, [(tufte, 1)])
    stripe_outage(REAL, TIMEOUT, then_real=True)  # the new intent is created; the old one's cancel times out

    status, _ = post_json(client, cart_body([(hamming, 1), (tufte, 1)], "ada@example.com"))

    assert status == 200
    old.refresh_from_db()
    assert old.status == OrderStatus.CANCELED and old.payment_intent_cancel_pending
    assert (stock(hamming), stock(tufte)) == (4, 4)  # held once, by the new order
    assert emulator_client.v1.payment_intents.retrieve(old.payment_intent_id).status != "canceled"

    payments_sync(older_than=timedelta(0), abandon_after=None, report=lambda line: None)  # Stripe is back

    old.refresh_from_db()
    assert not old.payment_intent_cancel_pending
    assert emulator_client.v1.payment_intents.retrieve(old.payment_intent_id).status == "canceled"


def test_the_confirmation_email_lists_lines_shipping_and_address(
    client, books, stripe_emulator, mailoutbox, django_capture_on_commit_callbacks
):
    hamming, tufte = books
    fill_cart(client, [(hamming, 1), (tufte, 2)])
    post_json(client, cart_body([(hamming, 1), (tufte, 2)], "ada@example.com"))
    order = Order.objects.get()
    payment_intent_pay(order.payment_intent_id)

    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("payments:success"), {"payment_intent": order.payment_intent_id})

    (mail,) = mailoutbox
    html = mail.alternatives[0][0]
    for text in (mail.body, html):
        for expected in ("Hamming", "2 × Tufte" if text is mail.body else "Tufte", "$4.99", "$51.99"):
            assert expected in text
        assert "12 St James" in text and "LONDON" in text and "SW1Y 4JH" in text and "UNITED KINGDOM" in text
