"""The discount code as shoppers type it (cart page, checkout) and the admin's voucher form."""

from django import forms

from core.money import amount_to_minor_units, minor_units_to_text
from shop.vouchers.exceptions import VoucherRefused
from shop.vouchers.models import PERCENT_MAX, Voucher, VoucherKind
from shop.vouchers.pricing import voucher_code_normalize


class DiscountCodeField(forms.CharField):
    """A code, normalised (upper case, trimmed); anything that cannot be one gets one clear message.

    Checked before any other validator, so a code with NUL bytes or of 200
    characters gets the same sentence as any other malformed code.
    """

    def to_python(self, value) -> str:
        text = super().to_python(value)
        try:
            return voucher_code_normalize(text)
        except VoucherRefused as refused:
            raise forms.ValidationError(refused.message, code="invalid") from refused


class VoucherAdminForm(forms.ModelForm):
    """Staff type a fixed amount and the minimum in money ("5.00"), a percentage as a whole number."""

    value = forms.CharField(
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
        help_text=f"A percentage: a whole number from 1 to {PERCENT_MAX}. A fixed amount: in the "
        "currency below, e.g. 5.00.",
    )
    minimum_subtotal = forms.CharField(
        label="minimum subtotal",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
        help_text="The books (before shipping) must come to this much, e.g. 30.00. Empty: any order.",
    )

    class Meta:
        model = Voucher
        fields = [
            "code",
            "kind",
            "value",
            "currency",
            "minimum_subtotal",
            "valid_from",
            "valid_until",
            "max_uses",
            "once_per_email",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        voucher = self.instance
        if voucher.pk is not None:
            if voucher.kind == VoucherKind.FIXED:
                self.initial["value"] = minor_units_to_text(amount=voucher.value, currency=voucher.currency)
            if voucher.minimum_subtotal:
                self.initial["minimum_subtotal"] = minor_units_to_text(
                    amount=voucher.minimum_subtotal, currency=voucher.currency
                )

    def clean_code(self) -> str:
        return (self.cleaned_data.get("code") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        currency = cleaned.get("currency") or self.instance.currency or "usd"
        kind, value = cleaned.get("kind"), (cleaned.get("value") or "").strip()
        if kind == VoucherKind.PERCENT and value:
            if not value.isdigit() or not 1 <= int(value) <= PERCENT_MAX:
                self.add_error(
                    "value", f"A percentage is a whole number from 1 to {PERCENT_MAX}, not {value}."
                )
            else:
                cleaned["value"] = int(value)
        elif kind == VoucherKind.FIXED and value:
            cleaned["value"] = self._money("value", value, currency)
        minimum = (cleaned.get("minimum_subtotal") or "").strip()
        cleaned["minimum_subtotal"] = self._money("minimum_subtotal", minimum, currency) if minimum else 0
        return cleaned

    def _money(self, field: str, text: str, currency: str) -> int | None:
        try:
            return amount_to_minor_units(text=text, currency=currency)
        except ValueError as exc:
            self.add_error(field, str(exc))
            return None
