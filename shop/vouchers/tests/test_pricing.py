from datetime import timedelta

import pytest
from django.utils import timezone

from shop.vouchers.exceptions import RefusalReason, VoucherRefused
from shop.vouchers.models import Voucher, VoucherKind
from shop.vouchers.pricing import voucher_code_normalize, voucher_discount_amount, voucher_refusal
from shop.vouchers.selectors import voucher_get_usable
from shop.vouchers.tests.factories import VoucherFactory


def percent(value: int) -> Voucher:
    return Voucher(code="P", kind=VoucherKind.PERCENT, value=value, currency="usd")


def fixed(value: int) -> Voucher:
    return Voucher(code="F", kind=VoucherKind.FIXED, value=value, currency="usd")


@pytest.mark.parametrize(
    ("voucher", "subtotal", "off"),
    [
        (percent(10), 2300, 230),
        (percent(15), 1999, 300),  # 299.85 rounds half up to 300
        (percent(15), 1990, 299),  # 298.5 rounds half up to 299
        (percent(100), 4600, 4600),
        (fixed(500), 2300, 500),
        (fixed(5000), 2300, 2300),  # never more than the books
        (fixed(500), 0, 0),
    ],
)
def test_discount_amounts(voucher, subtotal, off):
    assert voucher_discount_amount(voucher=voucher, subtotal_amount=subtotal) == off


@pytest.mark.parametrize(
    ("typed", "code"), [("  spring-24 ", "SPRING-24"), ("", ""), ("a_b", "A_B"), ("X" * 40, "X" * 40)]
)
def test_codes_are_normalised(typed, code):
    assert voucher_code_normalize(typed) == code


@pytest.mark.parametrize(
    "typed", ["X" * 41, "C" * 200, "SPRING\x00", "\x00", "SPRING 24", "-SPRING", "ÉTÉ", "<script>", "\ud800"]
)
def test_anything_that_cannot_be_a_code_is_refused_with_one_message(typed):
    with pytest.raises(VoucherRefused) as refused:
        voucher_code_normalize(typed)
    assert refused.value.reason == RefusalReason.INVALID
    assert "That is not a discount code" in refused.value.message


def refusal(voucher: Voucher, subtotal: int = 2300, currency: str = "usd") -> VoucherRefused | None:
    return voucher_refusal(voucher=voucher, subtotal_amount=subtotal, currency=currency)


def test_each_refusal_names_why():
    now = timezone.now()
    cases = [
        (Voucher(code="OFF", value=10, is_active=False), RefusalReason.INACTIVE, "no longer active"),
        (
            Voucher(code="SOON", value=10, valid_from=now + timedelta(days=1)),
            RefusalReason.NOT_YET_VALID,
            "can be used from",
        ),
        (
            Voucher(code="OLD", value=10, valid_until=now - timedelta(days=1)),
            RefusalReason.EXPIRED,
            "expired on",
        ),
        (Voucher(code="GONE", value=10, max_uses=3, uses_count=3), RefusalReason.EXHAUSTED, "used up"),
        (Voucher(code="EURO", value=10, currency="eur"), RefusalReason.CURRENCY, "orders in EUR"),
        (
            Voucher(code="BIG", value=10, minimum_subtotal=3000),
            RefusalReason.UNDER_MINIMUM,
            "needs books worth $30.00 or more: add $7.00 more",
        ),
    ]
    for voucher, reason, words in cases:
        refused = refusal(voucher)
        assert refused is not None and refused.reason == reason, voucher.code
        assert words in refused.message and voucher.code in refused.message


def test_a_usable_voucher_has_no_refusal():
    now = timezone.now()
    voucher = Voucher(
        code="OK",
        value=10,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=1),
        max_uses=3,
        uses_count=2,
        minimum_subtotal=2300,
    )
    assert refusal(voucher) is None


@pytest.mark.django_db
def test_codes_are_found_in_any_case_and_unknown_ones_named():
    VoucherFactory(code="SPRING")
    assert voucher_get_usable(code=" spring ", subtotal_amount=2300, currency="usd").code == "SPRING"
    with pytest.raises(VoucherRefused) as refused:
        voucher_get_usable(code="summer", subtotal_amount=2300, currency="usd")
    assert refused.value.reason == RefusalReason.UNKNOWN
    assert refused.value.message == "We do not know the discount code SUMMER. Check how it is spelled."
