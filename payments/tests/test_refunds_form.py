"""The refund form's amount: what staff type (major units) to exact integer minor units."""

import pytest

from payments.forms import RefundForm
from shop.money import amount_to_minor_units, minor_units_to_text


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("5.00", "usd", 500),
        ("5", "usd", 500),
        ("5.5", "eur", 550),
        (" 0.01 ", "usd", 1),
        ("19.99", "gbp", 1999),
        ("1234567.89", "usd", 123456789),
        ("500", "jpy", 500),
        ("500.0", "jpy", 500),
    ],
)
def test_amounts_are_converted_exactly(text, currency, minor):
    assert amount_to_minor_units(text=text, currency=currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("0.1.0", "usd", "Enter an amount like 5.00"),
        ("-5.00", "usd", "Enter an amount like 5.00"),
        ("5.00 USD", "usd", "Enter an amount like 5.00"),
        ("1e3", "usd", "Enter an amount like 5.00"),
        ("", "usd", "Enter an amount like 5.00"),
        ("0.005", "usd", "USD amounts have 2 decimal places, e.g. 5.00."),
        ("500.5", "jpy", "JPY amounts have no decimals, e.g. 500."),
        ("0", "usd", "Enter an amount greater than zero."),
    ],
)
def test_amounts_staff_did_not_mean_are_refused(text, currency, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        amount_to_minor_units(text=text, currency=currency)


@pytest.mark.parametrize(
    ("minor", "currency", "text"), [(2300, "usd", "23.00"), (5, "usd", "0.05"), (500, "jpy", "500")]
)
def test_the_prefilled_amount_is_written_as_staff_type_it(minor, currency, text):
    assert minor_units_to_text(amount=minor, currency=currency) == text
    assert amount_to_minor_units(text=text, currency=currency) == minor


def test_the_form_labels_the_amount_with_the_currency_and_needs_a_reason():
    form = RefundForm({"amount": "500", "reason": "", "refund_count": "0"}, currency="jpy")

    assert not form.is_valid()
    assert form.fields["amount"].label == "Amount (JPY)"
    assert form.cleaned_data["amount"] == 500
    assert form.errors["reason"] == ["Say why this order is refunded."]
