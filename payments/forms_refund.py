"""The admin's refund form: an amount as staff write it ("5.00"), a reason, and a page token.

Staff think in money, not cents, so the amount is typed in the order's
currency with its usual decimals (5.00 USD, 500 JPY) and converted to
integer minor units exactly, with Decimal: no floats anywhere.
"""

import re
from decimal import Decimal

from django import forms

from shop.money import ZERO_DECIMAL_CURRENCIES

AMOUNT_PATTERN = re.compile(r"^\d{1,9}(\.\d+)?$")


def currency_decimals(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2


def amount_to_minor_units(*, text: str, currency: str) -> int:
    """ "5.00" USD -> 500; "500" JPY -> 500. ValueError with a message staff can read."""
    text = (text or "").strip()
    decimals = currency_decimals(currency)
    example = "5.00" if decimals else "500"
    if not AMOUNT_PATTERN.match(text):
        raise ValueError(f"Enter an amount like {example} (digits, and a dot for decimals).")
    value = Decimal(text)
    minor = value.scaleb(decimals)
    if minor != minor.to_integral_value():
        places = f"{decimals} decimal places" if decimals else "no decimals"
        raise ValueError(f"{currency.upper()} amounts have {places}, e.g. {example}.")
    if minor <= 0:
        raise ValueError("Enter an amount greater than zero.")
    return int(minor)


def minor_units_to_text(*, amount: int, currency: str) -> str:
    """500, "usd" -> "5.00": the form's way of showing an amount (no symbol, no separators)."""
    decimals = currency_decimals(currency)
    return str(Decimal(amount).scaleb(-decimals).quantize(Decimal(1).scaleb(-decimals)))


class RefundForm(forms.Form):
    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why the customer is refunded (kept with the refund and sent to Stripe as metadata).",
        error_messages={"required": "Say why this order is refunded."},
    )
    # How many refunds the order had when this page was shown: part of the
    # idempotency key (a double click refunds once; a stale page is refused).
    refund_count = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].label = f"Amount ({currency.upper()})"
        self.fields[
            "amount"
        ].help_text = f"In {currency.upper()}, e.g. {'5.00' if currency_decimals(currency) else '500'}."

    def clean_amount(self) -> int:
        try:
            return amount_to_minor_units(text=self.cleaned_data["amount"], currency=self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
