"""Discount codes on the cart page: a plain form, priced by the server, every refusal named."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from shop.cart.models import Cart
from shop.cart.pricing import totals_with_code
from shop.cart.selectors import cart_summary
from shop.cart.services import cart_clear
from shop.catalog.tests.factories import BookFactory
from shop.vouchers.exceptions import RefusalReason, VoucherRefused
from shop.vouchers.models import Voucher, VoucherKind
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(autouse=True)
def shipping(settings):
    settings.SHIPPING_FLAT_AMOUNT = 499
    settings.SHIPPING_FREE_FROM = 5000


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def apply_code(client, code: str, **headers):
    return client.post("/cart/voucher/", {"code": code}, **(headers or HTML))


@pytest.fixture
def cart(client):
    book = BookFactory(slug="hamming", title="Hamming", price_amount=2300)
    assert client.post("/cart/add/", {"book": book.slug}, **HTML).status_code == 302
    return book


def stored_code() -> str:
    return Cart.objects.get().voucher_code


# --- pricing ------------------------------------------------------------------------------


def test_a_percentage_comes_off_the_books_not_the_shipping():
    VoucherFactory(code="TEN", value=10)
    totals = totals_with_code(lines=[(2300, 1)], currency="usd", code="ten")
    assert (totals.subtotal_amount, totals.discount_amount, totals.shipping_amount) == (2300, 230, 499)
    assert (totals.total_amount, totals.voucher_code) == (2300 - 230 + 499, "TEN")


def test_shipping_is_worked_out_before_the_discount():
    VoucherFactory(code="TEN", value=10)
    totals = totals_with_code(lines=[(2500, 2)], currency="usd", code="TEN")
    assert (totals.shipping_amount, totals.total_amount) == (0, 5000 - 500)  # still free


def test_a_fixed_discount_bigger_than_the_books_leaves_the_shipping():
    VoucherFactory(code="BIG", kind=VoucherKind.FIXED, value=10_000)
    totals = totals_with_code(lines=[(2300, 1)], currency="usd", code="BIG")
    assert (totals.discount_amount, totals.total_amount) == (2300, 499)


def test_a_total_under_the_smallest_card_payment_is_refused(settings):
    settings.SHIPPING_FREE_FROM = 2000  # the books ship free: the code would leave $0.30
    VoucherFactory(code="ALMOST", kind=VoucherKind.FIXED, value=2270)
    with pytest.raises(VoucherRefused) as refused:
        totals_with_code(lines=[(2300, 1)], currency="usd", code="ALMOST")
    assert refused.value.reason == RefusalReason.BELOW_MINIMUM_CHARGE
    assert refused.value.message == (
        "With the discount code ALMOST the total would be $0.30, under the smallest card payment we can "
        "take ($0.50). It cannot be used on this order."
    )
    VoucherFactory(code="ALL", kind=VoucherKind.PERCENT, value=100)
    with pytest.raises(VoucherRefused, match=r"would be \$0\.00"):
        totals_with_code(lines=[(2300, 1)], currency="usd", code="ALL")


# --- the cart page's form -------------------------------------------------------------------


def test_a_code_applied_shows_the_discount_line_and_the_new_total(client, cart):
    VoucherFactory(code="SPRING", value=10)

    response = apply_code(client, " spring ")

    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert stored_code() == "SPRING"
    page = page_text(client.get("/cart/"))
    assert "The discount code SPRING takes $2.30 off your books." in page
    assert "Discount (SPRING)</dt><dd>−$2.30</dd>" in page
    assert '<dd id="cart-total">$25.69</dd>' in page  # 23.00 - 2.30 + 4.99
    assert 'id="voucher-remove"' in page


def test_the_code_can_be_removed(client, cart):
    VoucherFactory(code="SPRING", value=10)
    apply_code(client, "SPRING")

    response = client.post("/cart/voucher/", {"remove": "1"}, **HTML)

    assert response.status_code == 302
    assert stored_code() == ""
    page = page_text(client.get("/cart/"))
    assert "The discount code was removed." in page and "$27.99" in page and "Discount (" not in page


@pytest.mark.parametrize(
    ("voucher", "typed", "message"),
    [
        (None, "NOPE", "We do not know the discount code NOPE. Check how it is spelled."),
        ({"code": "OFF", "is_active": False}, "OFF", "The discount code OFF is no longer active."),
        ({"code": "OLD", "valid_until": timezone.now() - timedelta(days=1)}, "OLD", "expired on"),
        ({"code": "SOON", "valid_from": timezone.now() + timedelta(days=1)}, "SOON", "can be used from"),
        (
            {"code": "GONE", "max_uses": 5, "uses_count": 5},
            "GONE",
            "The discount code GONE has been used up.",
        ),
        (
            {"code": "BIG", "minimum_subtotal": 5000},
            "BIG",
            "The discount code BIG needs books worth $50.00 or more: add $27.00 more to use it.",
        ),
        ({"code": "EURO", "currency": "eur"}, "EURO", "The discount code EURO is for orders in EUR."),
    ],
)
def test_a_code_that_cannot_be_used_is_refused_with_the_reason(client, cart, voucher, typed, message):
    if voucher:
        VoucherFactory(**voucher)

    response = apply_code(client, typed)

    assert response.status_code == 302
    assert stored_code() == ""
    page = page_text(client.get("/cart/"))
    assert message in page
    assert "$27.99" in page  # no discount


@pytest.mark.parametrize("typed", ["C" * 200, "SPRING\x00", "\x00\x00"])
def test_bad_input_gets_a_clear_error_and_changes_nothing(client, cart, typed):
    VoucherFactory(code="SPRING")

    response = apply_code(client, typed, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("That is not a discount code")
    assert stored_code() == ""


def test_an_empty_code_is_asked_for(client, cart):
    response = apply_code(client, "   ", HTTP_ACCEPT="application/json")
    assert (response.status_code, response.json()["error"]) == (400, "Enter a discount code.")


def test_an_empty_cart_takes_no_code(client):
    VoucherFactory(code="SPRING")
    response = apply_code(client, "SPRING", HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert "Your cart is empty" in response.json()["error"]
    assert not Cart.objects.exists()


def test_codes_tried_are_rate_limited(client, cart, settings):
    settings.DISCOUNT_CODE_RATE_LIMIT_PER_IP = 3
    for n in range(3):
        assert apply_code(client, f"GUESS{n}", HTTP_ACCEPT="application/json").status_code == 409
    VoucherFactory(code="RIGHT")

    response = apply_code(client, "RIGHT", HTTP_ACCEPT="application/json")

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many discount codes tried" in response.json()["error"]
    assert stored_code() == ""


def test_a_code_that_expires_after_it_was_applied_takes_nothing_off_and_says_why(client, cart):
    voucher = VoucherFactory(code="SPRING", value=10)
    apply_code(client, "SPRING")
    Voucher.objects.filter(pk=voucher.pk).update(valid_until=timezone.now() - timedelta(minutes=1))

    page = page_text(client.get("/cart/"))

    assert "The discount code SPRING expired on" in page and 'id="voucher-problem"' in page
    assert '<dd id="cart-total">$27.99</dd>' in page
    assert 'id="checkout-button"' in page  # the code never blocks checking out


def test_a_code_under_its_minimum_comes_back_when_the_books_reach_it(client, cart):
    VoucherFactory(code="BIG", kind=VoucherKind.FIXED, value=1000, minimum_subtotal=4000)
    Cart.objects.update(voucher_code="BIG")  # applied when the cart held more
    before = cart_summary(session_key=Cart.objects.get().session_id)
    assert before.discount_amount == 0 and "add $17.00 more" in before.voucher_problem

    client.post("/cart/update/", {"book": cart.slug, "quantity": 2}, **HTML)

    summary = cart_summary(session_key=Cart.objects.get().session_id)
    assert (summary.discount_amount, summary.total_amount, summary.voucher_problem) == (
        1000,
        4600 - 1000 + 499,
        "",
    )


def test_the_summary_prices_a_code_with_one_more_query(client, cart, django_assert_num_queries):
    VoucherFactory(code="SPRING")
    apply_code(client, "SPRING")
    session_key = Cart.objects.get().session_id
    with django_assert_num_queries(2):
        assert cart_summary(session_key=session_key).discount_amount == 230


def test_a_paid_cart_forgets_its_code(client, cart):
    VoucherFactory(code="SPRING")
    apply_code(client, "SPRING")
    cart_clear(cart_id=Cart.objects.get().pk)
    assert stored_code() == ""
