"""POST /payments/discount/: the checkout page's Apply button, priced by the server."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from shop.cart.models import Cart
from shop.catalog.tests.factories import BookFactory
from shop.vouchers.models import VoucherKind
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db

URL = reverse("payments:checkout_discount")


@pytest.fixture
def book(db):
    return BookFactory(slug="hamming", title="Hamming", price_amount=2300, stock=10)


def post(client: Client, body) -> tuple[int, dict]:
    response = client.post(URL, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_a_book_bought_now_is_priced_with_the_code(client, book):
    VoucherFactory(code="SPRING", value=10)

    status, data = post(client, {"book": book.slug, "voucher_code": "spring"})

    assert status == 200
    assert data == {
        "total": 2569,
        "totalDisplay": "$25.69",
        "subtotalDisplay": "$23.00",
        "shippingDisplay": "$4.99",
        "discount": 230,
        "discountDisplay": "−$2.30",
        "voucherCode": "SPRING",
    }
    assert not Cart.objects.exists()


def test_the_cart_is_priced_and_keeps_the_code(client, book):
    VoucherFactory(code="TENOFF", kind=VoucherKind.FIXED, value=1000)
    client.post(reverse("cart:add"), {"book": book.slug, "quantity": 3})

    status, data = post(client, {"voucher_code": "TENOFF"})

    assert status == 200
    assert (data["total"], data["shippingDisplay"], data["discountDisplay"]) == (5900, "Free", "−$10.00")
    assert Cart.objects.get().voucher_code == "TENOFF"
    status, data = post(client, {"voucher_code": ""})  # Remove
    assert (status, data["total"], data["voucherCode"]) == (200, 6900, "")
    assert Cart.objects.get().voucher_code == ""


def test_a_refused_code_names_why_and_gives_the_figures_without_it(client, book):
    VoucherFactory(code="BIG", minimum_subtotal=5000)

    status, data = post(client, {"book": book.slug, "voucher_code": "BIG"})

    assert status == 409
    assert data["voucherRefused"] is True and data["field"] == "voucher_code"
    assert "needs books worth $50.00 or more" in data["error"]
    assert (data["total"], data["discountDisplay"], data["voucherCode"]) == (2799, "", "")


@pytest.mark.parametrize("code", ["X" * 200, "SPR\u0000ING", 42, ["SPRING"]])
def test_bad_input_is_a_clear_400(client, book, code):
    status, data = post(client, {"book": book.slug, "voucher_code": code})
    assert status == 400 and data["field"] == "voucher_code"
    assert data["error"].startswith("That is not a discount code")


@pytest.mark.parametrize(
    ("body", "status"),
    [({"book": "no-such-book", "voucher_code": "SPRING"}, 404), ({"voucher_code": "SPRING"}, 409)],
)
def test_nothing_to_price(client, book, body, status):
    VoucherFactory(code="SPRING")
    assert post(client, body)[0] == status


def test_only_json_posts(client, book):
    assert client.get(URL).status_code == 405
    response = client.post(URL, {"voucher_code": "X"})
    assert response.status_code == 415
    response = client.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400


def test_codes_tried_here_count_against_the_same_limit(client, book, settings):
    settings.DISCOUNT_CODE_RATE_LIMIT_PER_IP = 2
    VoucherFactory(code="RIGHT")
    for guess in ("GUESS1", "GUESS2"):
        assert post(client, {"book": book.slug, "voucher_code": guess})[0] == 409
    response = client.post(
        URL, data=json.dumps({"book": book.slug, "voucher_code": "RIGHT"}), content_type="application/json"
    )
    assert response.status_code == 429 and response["Retry-After"]
