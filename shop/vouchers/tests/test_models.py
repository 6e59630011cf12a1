"""The database refuses what the admin form refuses, whoever writes the row."""

import pytest
from django.db import IntegrityError, transaction

from shop.vouchers.models import Voucher, VoucherKind
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": VoucherKind.PERCENT, "value": 150},
        {"kind": VoucherKind.PERCENT, "value": 0},
        {"kind": VoucherKind.FIXED, "value": 0},
        {"max_uses": 0},
        {"currency": "USD"},
    ],
)
def test_out_of_range_values_are_refused_by_the_database(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        VoucherFactory(**fields)


def test_negative_amounts_are_refused_by_the_database():
    voucher = VoucherFactory()
    for field in ("uses_count", "minimum_subtotal"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Voucher.objects.filter(pk=voucher.pk).update(**{field: -1})


def test_the_end_comes_after_the_start():
    from django.utils import timezone

    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        VoucherFactory(valid_from=now, valid_until=now)


def test_codes_are_unique_whatever_their_case():
    VoucherFactory(code="SPRING")
    with pytest.raises(IntegrityError), transaction.atomic():
        VoucherFactory(code="spring")


def test_values_shown():
    assert Voucher(kind=VoucherKind.PERCENT, value=15).value_display == "15%"
    assert Voucher(kind=VoucherKind.FIXED, value=500, currency="usd").value_display == "$5.00"
    assert Voucher(max_uses=10, uses_count=3).uses_display == "3 of 10"
    assert Voucher(uses_count=3).uses_display == "3"
