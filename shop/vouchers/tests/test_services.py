from datetime import timedelta

import pytest
from django.utils import timezone

from shop.vouchers.exceptions import RefusalReason
from shop.vouchers.models import Voucher
from shop.vouchers.services import voucher_take_refused, voucher_use_return, voucher_use_take
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db


def uses(voucher: Voucher) -> int:
    return Voucher.objects.get(pk=voucher.pk).uses_count


def test_uses_are_taken_up_to_the_maximum_and_no_further():
    voucher = VoucherFactory(max_uses=2)
    assert [voucher_use_take(voucher_id=voucher.pk) for _ in range(3)] == [True, True, False]
    assert uses(voucher) == 2
    refused = voucher_take_refused(voucher_id=voucher.pk)
    assert refused.reason == RefusalReason.EXHAUSTED


def test_a_code_without_a_maximum_counts_every_use():
    voucher = VoucherFactory(max_uses=None)
    for _ in range(5):
        assert voucher_use_take(voucher_id=voucher.pk)
    assert uses(voucher) == 5


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"is_active": False}, RefusalReason.INACTIVE),
        ({"valid_until": timezone.now() - timedelta(minutes=1)}, RefusalReason.EXPIRED),
        ({"valid_from": timezone.now() + timedelta(minutes=5)}, RefusalReason.NOT_YET_VALID),
    ],
)
def test_no_use_is_taken_of_a_code_that_cannot_be_used(fields, reason):
    voucher = VoucherFactory(**fields)
    assert not voucher_use_take(voucher_id=voucher.pk)
    assert uses(voucher) == 0
    assert voucher_take_refused(voucher_id=voucher.pk).reason == reason


def test_a_use_that_happened_is_counted_past_the_limits():
    voucher = VoucherFactory(max_uses=1, uses_count=1, is_active=False)
    assert voucher_use_take(voucher_id=voucher.pk, within_limits=False)
    assert uses(voucher) == 2


def test_uses_given_back_never_go_below_zero():
    voucher = VoucherFactory(uses_count=1)
    voucher_use_return(voucher_id=voucher.pk)
    voucher_use_return(voucher_id=voucher.pk)
    assert uses(voucher) == 0
