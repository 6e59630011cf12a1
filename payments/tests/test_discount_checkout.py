"""Paying with a discount code: priced by the server, a use taken with the PaymentIntent, given back once."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.services.intents import order_apply_payment_intent
from payments.services.reconciliation import payments_sync
from payments.tests.checkout import SHIPPING, cart_body, one_book_body
from payments.tests.emulator import payment_intent_pay
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderStatus
from shop.vouchers.models import Voucher, VoucherKind
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]

URL = reverse("payments:create_intent")


@pytest.fixture
def book(db):
    return BookFactory(slug="hamming", title="Hamming", price_amount=2300, stock=10)


def post_json(client: Client, body: dict) -> tuple[int, dict]:
    response = client.post(URL, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def with_code(book, code: str, expected: int, email: str = "ada@example.com", **extra) -> dict:
    return one_book_body(book, email, voucher_code=code, expected_total=expected, **extra)


def uses(voucher: Voucher) -> int:
    return Voucher.objects.get(pk=voucher.pk).uses_count


def stock(book) -> int:
    return Book.objects.get(pk=book.pk).stock


def test_the_order_and_its_payment_intent_carry_the_discount(client, book, emulator_client):
    voucher = VoucherFactory(code="SPRING", value=10)

    status, data = post_json(client, with_code(book, "spring", 2300 - 230 + 499))

    assert status == 200, data
    order = Order.objects.get()
    assert (order.voucher_id, order.voucher_code, order.discount_amount) == (voucher.pk, "SPRING", 230)
    assert (order.total_amount, order.subtotal_amount, order.shipping_amount) == (2569, 2300, 499)
    assert list(order.items.values_list("unit_amount", "quantity")) == [(2300, 1)]  # lines as priced
    assert order.voucher_use_held and uses(voucher) == 1
    intent = emulator_client.v1.payment_intents.retrieve(order.payment_intent_id)
    assert intent.amount == 2569
    assert intent.metadata["discount_code"] == "SPRING"


def test_amounts_the_browser_sends_are_ignored(client, book, emulator_client):
    VoucherFactory(code="SPRING", value=10)
    body = with_code(book, "SPRING", 2569, amount=1, discount=2300, discount_amount=2300, total=1)

    status, _ = post_json(client, body)

    assert status == 200
    order = Order.objects.get()
    assert (order.discount_amount, order.total_amount) == (230, 2569)
    assert emulator_client.v1.payment_intents.retrieve(order.payment_intent_id).amount == 2569


def test_a_total_without_the_discount_is_the_409_total_changed_with_the_discount_line(client, book):
    voucher = VoucherFactory(code="SPRING", value=10)

    status, data = post_json(client, with_code(book, "SPRING", 2799))

    assert status == 409
    assert (data["total"], data["totalDisplay"], data["discountDisplay"]) == (2569, "$25.69", "−$2.30")
    assert data["voucherCode"] == "SPRING"
    assert not Order.objects.exists() and uses(voucher) == 0


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"valid_until": timezone.now() - timedelta(days=1)}, "expired on"),
        ({"valid_from": timezone.now() + timedelta(days=1)}, "can be used from"),
        ({"max_uses": 2, "uses_count": 2}, "has been used up"),
        ({"minimum_subtotal": 3000}, "needs books worth $30.00 or more"),
        ({"is_active": False}, "no longer active"),
    ],
)
def test_a_code_that_cannot_be_used_is_refused_and_nothing_is_created(client, book, fields, words):
    VoucherFactory(code="SPRING", value=10, **fields)

    status, data = post_json(client, with_code(book, "SPRING", 2569))

    assert status == 409
    assert words in data["error"] and data["voucherRefused"] is True and data["field"] == "voucher_code"
    assert (data["total"], data["discountDisplay"]) == (2799, "")  # the figures without the code
    assert not Order.objects.exists() and stock(book) == 10


def test_an_unknown_code_is_named(client, book):
    status, data = post_json(client, with_code(book, "NOPE", 2569))
    assert status == 409
    assert data["error"] == "We do not know the discount code NOPE. Check how it is spelled."


@pytest.mark.parametrize("code", ["C" * 200, "SPRING\u0000", "\u0000", "SPRING 10", "\ud800"])
def test_bad_codes_are_a_400_naming_the_field_and_nothing_is_charged(client, book, code, emulator_client):
    VoucherFactory(code="SPRING")

    status, data = post_json(client, with_code(book, code, 2569))

    assert status == 400
    assert data["field"] == "voucher_code" and data["error"].startswith("That is not a discount code")
    assert not Order.objects.exists()


@pytest.mark.parametrize("code", [["SPRING"], {"code": "SPRING"}, 10, True])
def test_a_code_that_is_not_text_is_refused_as_not_a_code(client, book, code):
    VoucherFactory(code="SPRING")
    status, data = post_json(client, with_code(book, code, 2569))
    assert (status, data["field"]) == (400, "voucher_code")
    assert not Order.objects.exists()


def test_a_null_code_is_none(client, book):
    assert post_json(client, with_code(book, None, 2799))[0] == 200
    assert Order.objects.get().voucher_code == ""


def test_a_fixed_discount_bigger_than_the_books_charges_the_shipping_only(client, book, emulator_client):
    VoucherFactory(code="BOOKFREE", kind=VoucherKind.FIXED, value=10_000)

    status, _ = post_json(client, with_code(book, "BOOKFREE", 499))

    assert status == 200
    order = Order.objects.get()
    assert (order.discount_amount, order.total_amount) == (2300, 499)
    assert emulator_client.v1.payment_intents.retrieve(order.payment_intent_id).amount == 499


def test_a_total_under_the_smallest_card_payment_is_refused_not_charged(client, book, settings):
    settings.SHIPPING_FREE_FROM = 2000  # free shipping: the whole order would be free
    VoucherFactory(code="ALLFREE", kind=VoucherKind.PERCENT, value=100)

    status, data = post_json(client, with_code(book, "ALLFREE", 0))

    assert status == 409 and data["voucherRefused"]
    assert "under the smallest card payment we can take ($0.50)" in data["error"]
    assert not Order.objects.exists()


def test_once_per_email_refuses_a_second_order_from_the_address_in_any_case(book):
    voucher = VoucherFactory(code="WELCOME", value=10, once_per_email=True)
    assert post_json(Client(), with_code(book, "WELCOME", 2569))[0] == 200

    status, data = post_json(Client(), with_code(book, "WELCOME", 2569, email="ADA@example.com"))

    assert status == 409 and data["voucherRefused"]
    assert data["error"] == "The discount code WELCOME has already been used with this email address."
    assert uses(voucher) == 1
    assert stock(book) == 9  # the refused checkout's copies went back with its transaction
    assert Order.objects.exclude(payment_intent_id=None).count() == 1
    assert post_json(Client(), with_code(book, "WELCOME", 2569, email="bob@example.com"))[0] == 200


def test_once_per_email_checks_an_address_corrected_on_the_same_order(client, book):
    VoucherFactory(code="WELCOME", value=10, once_per_email=True)
    assert post_json(Client(), with_code(book, "WELCOME", 2569, email="used@example.com"))[0] == 200
    assert post_json(client, with_code(book, "WELCOME", 2569, email="new@example.com"))[0] == 200

    status, data = post_json(client, with_code(book, "WELCOME", 2569, email="used@example.com"))

    assert status == 409 and "already been used with this email" in data["error"]


def test_the_last_use_goes_to_the_first_and_the_next_shopper_is_told(book):
    voucher = VoucherFactory(code="LAST", value=10, max_uses=1)
    assert post_json(Client(), with_code(book, "LAST", 2569))[0] == 200

    status, data = post_json(Client(), with_code(book, "LAST", 2569, email="bob@example.com"))

    assert (status, data["error"]) == (409, "The discount code LAST has been used up.")
    assert uses(voucher) == 1 and stock(book) == 9


def test_a_retry_reuses_the_order_and_its_use(client, book):
    voucher = VoucherFactory(code="SPRING", value=10)
    first = post_json(client, with_code(book, "SPRING", 2569))
    second = post_json(client, with_code(book, "SPRING", 2569))
    assert first == second and first[0] == 200
    assert Order.objects.count() == 1 and uses(voucher) == 1


def test_removing_the_code_replaces_the_order_and_gives_its_use_back(client, book):
    voucher = VoucherFactory(code="SPRING", value=10)
    assert post_json(client, with_code(book, "SPRING", 2569))[0] == 200

    status, _ = post_json(client, one_book_body(book, "ada@example.com"))

    assert status == 200
    old, new = Order.objects.order_by("created_at")
    assert (old.status, old.voucher_use_held) == (OrderStatus.CANCELED, False)
    assert (new.voucher_code, new.total_amount) == ("", 2799)
    assert uses(voucher) == 0 and stock(book) == 9


def test_a_changed_cart_hands_the_use_over_to_the_new_order(client, book):
    voucher = VoucherFactory(code="SPRING", value=10, max_uses=1)
    other = BookFactory(price_amount=1200)
    client.post(reverse("cart:add"), {"book": book.slug})
    assert (
        post_json(
            client, cart_body([(book, 1)], "ada@example.com", voucher_code="SPRING", expected_total=2569)
        )[0]
        == 200
    )
    client.post(reverse("cart:add"), {"book": other.slug})

    body = cart_body(
        [(book, 1), (other, 1)], "ada@example.com", voucher_code="SPRING", expected_total=3500 - 350 + 499
    )
    status, data = post_json(client, body)

    assert status == 200, data  # the last use was this shopper's own: it moves to the new order
    old, new = Order.objects.order_by("created_at")
    assert old.status == OrderStatus.CANCELED and not old.voucher_use_held
    assert new.voucher_use_held and new.discount_amount == 350
    assert uses(voucher) == 1


def age(order: Order, minutes: int) -> None:
    Order.objects.filter(pk=order.pk).update(stock_reserved_at=timezone.now() - timedelta(minutes=minutes))


def test_an_expired_hold_gives_the_use_back_exactly_once(client, book, settings):
    voucher = VoucherFactory(code="SPRING", value=10, max_uses=5)
    post_json(client, with_code(book, "SPRING", 2569))
    order = Order.objects.get()
    age(order, settings.STOCK_RESERVATION_MINUTES + 1)

    call_command("release_expired_holds", stdout=io.StringIO())
    call_command("release_expired_holds", stdout=io.StringIO())

    order.refresh_from_db()
    assert (order.status, order.voucher_use_held, order.voucher_code) == (
        OrderStatus.CANCELED,
        False,
        "SPRING",
    )
    assert uses(voucher) == 0 and stock(book) == 10


def test_an_abandoned_order_gives_the_use_back_once(client, book):
    voucher = VoucherFactory(code="SPRING", value=10)
    post_json(client, with_code(book, "SPRING", 2569))
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.FAILED)
    age(order, 45)

    for _ in range(2):
        payments_sync(older_than=timedelta(0), abandon_after=None, report=lambda line: None)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and not order.voucher_use_held
    assert uses(voucher) == 0


def test_a_paid_order_keeps_its_use(client, book):
    voucher = VoucherFactory(code="SPRING", value=10)
    post_json(client, with_code(book, "SPRING", 2569))
    order = Order.objects.get()

    intent = payment_intent_pay(order.payment_intent_id)
    order_apply_payment_intent(order=order, intent=intent, cause="test")

    order.refresh_from_db()
    assert (order.status, order.amount_received, order.voucher_use_held) == (OrderStatus.PAID, 2569, True)
    assert uses(voucher) == 1
    page = client.get(
        reverse("payments:success"), {"payment_intent": order.payment_intent_id}
    ).content.decode()
    assert '<dd id="amount-charged">$25.69</dd>' in page
    assert "Discount (code SPRING)" in page and '<dd id="order-discount">−$2.30</dd>' in page


def test_a_payment_after_the_cancel_counts_the_use_again_past_the_limit(client, book, settings):
    voucher = VoucherFactory(code="SPRING", value=10, max_uses=1)
    post_json(client, with_code(book, "SPRING", 2569))
    order = Order.objects.get()
    age(order, settings.STOCK_RESERVATION_MINUTES + 1)
    call_command("release_expired_holds", stdout=io.StringIO())
    assert post_json(Client(), with_code(book, "SPRING", 2569, email="bob@example.com"))[0] == 200
    order.refresh_from_db()
    paid_late = {
        "id": order.payment_intent_id,
        "status": "succeeded",
        "amount": 2569,
        "amount_received": 2569,
        "currency": "usd",
    }

    order_apply_payment_intent(order=order, intent=paid_late, cause="test")

    order.refresh_from_db()
    assert order.needs_review and order.voucher_use_held
    assert uses(voucher) == 2  # both shoppers paid with it: the count says so


def test_the_cart_checkout_page_shows_the_carts_code(client, book):
    VoucherFactory(code="SPRING", value=10)
    client.post(reverse("cart:add"), {"book": book.slug})
    client.post(reverse("cart:voucher"), {"code": "SPRING"})

    page = client.get(reverse("payments:cart_checkout")).content.decode()

    assert '<dd id="summary-discount">−$2.30</dd>' in page and "(SPRING)" in page
    assert '"voucherCode": "SPRING"' in page and '"expectedTotal": 2569' in page
    assert "Pay $25.69" in page


def test_shipping_in_the_summary_is_the_address_the_shopper_gave(client, book):
    VoucherFactory(code="SPRING", value=10)
    post_json(client, with_code(book, "SPRING", 2569))
    assert Order.objects.get().shipping_city == SHIPPING["address"]["city"]


def test_the_checkout_page_keeps_the_last_use_its_own_order_holds(client, book):
    VoucherFactory(code="LAST", value=10, max_uses=1)
    client.post(reverse("cart:add"), {"book": book.slug})
    client.post(reverse("cart:voucher"), {"code": "LAST"})
    body = cart_body([(book, 1)], "ada@example.com", voucher_code="LAST", expected_total=2569)
    assert post_json(client, body)[0] == 200  # the card is declined, say: the shopper reloads

    page = client.get(reverse("payments:cart_checkout")).content.decode()

    assert '"voucherCode": "LAST"' in page and "used up" not in page
    assert post_json(client, body)[0] == 200
