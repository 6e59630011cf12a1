"""Staff manage discount codes in the admin: money typed as money, clear errors, uses read-only."""

import pytest
from django.urls import reverse

from shop.vouchers.models import Voucher, VoucherKind
from shop.vouchers.tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:vouchers_voucher_add")


def form_data(**fields) -> dict:
    return {
        "code": "spring",
        "kind": VoucherKind.PERCENT,
        "value": "15",
        "currency": "usd",
        "minimum_subtotal": "",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        "max_uses": "",
        "is_active": "on",
    } | fields


def test_a_percentage_code_is_saved_in_upper_case(admin_client):
    response = admin_client.post(ADD, form_data())
    assert response.status_code == 302
    voucher = Voucher.objects.get()
    assert (voucher.code, voucher.kind, voucher.value, voucher.minimum_subtotal) == (
        "SPRING",
        "percent",
        15,
        0,
    )


def test_a_fixed_amount_and_minimum_are_typed_as_money(admin_client):
    response = admin_client.post(
        ADD, form_data(kind=VoucherKind.FIXED, value="5.00", minimum_subtotal="30.00", max_uses="100")
    )
    assert response.status_code == 302
    voucher = Voucher.objects.get()
    assert (voucher.value, voucher.minimum_subtotal, voucher.max_uses) == (500, 3000, 100)
    change = admin_client.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk]))
    assert 'value="5.00"' in change.content.decode() and 'value="30.00"' in change.content.decode()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"value": "150"}, "A percentage is a whole number from 1 to 100, not 150."),
        ({"value": "12.5"}, "A percentage is a whole number from 1 to 100, not 12.5."),
        ({"kind": VoucherKind.FIXED, "value": "5.001"}, "USD amounts have 2 decimal places"),
        ({"kind": VoucherKind.FIXED, "value": "-5"}, "Enter an amount like 5.00"),
        ({"code": "spring sale"}, "Use letters, digits, dashes and underscores only"),
        ({"code": "S" * 41}, "Ensure this value has at most 40 characters"),
        ({"max_uses": "0"}, "Allow at least one use"),
        (
            {
                "valid_from_0": "2030-01-02",
                "valid_from_1": "00:00",
                "valid_until_0": "2030-01-01",
                "valid_until_1": "00:00",
            },
            "The end of the validity must come after its start.",
        ),
    ],
)
def test_bad_values_get_a_clear_error_and_nothing_is_saved(admin_client, fields, error):
    response = admin_client.post(ADD, form_data(**fields))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Voucher.objects.exists()


def test_a_code_spelled_like_another_in_any_case_is_refused(admin_client):
    VoucherFactory(code="SPRING")
    response = admin_client.post(ADD, form_data(code="Spring"))
    assert response.status_code == 200
    assert "Another discount code is spelled the same (ignoring case)." in response.content.decode()
    assert Voucher.objects.count() == 1


def test_the_list_shows_values_and_uses(admin_client):
    VoucherFactory(code="TENOFF", kind=VoucherKind.FIXED, value=1000, max_uses=50, uses_count=7)
    page = admin_client.get(reverse("admin:vouchers_voucher_changelist")).content.decode()
    assert "TENOFF" in page and "$10.00" in page and "7 of 50" in page


def test_uses_cannot_be_edited(admin_client):
    voucher = VoucherFactory(uses_count=4)
    response = admin_client.post(
        reverse("admin:vouchers_voucher_change", args=[voucher.pk]),
        form_data(code=voucher.code, value="20", uses_count="0"),
    )
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.value, voucher.uses_count) == (20, 4)
