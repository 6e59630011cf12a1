"""What shoppers and staff may send: the checkout's start request and the admin's refund form."""

from django import forms

from shop.money import amount_to_minor_units, currency_decimals


class CreateIntentForm(forms.Form):
    """What the browser may send to start a payment: ids, never amounts."""

    book = forms.SlugField(max_length=200, error_messages={"required": "Choose a book to buy."})
    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": "Enter your email address so we can send your receipt.",
            "invalid": "Enter a valid email address, like you@example.com.",
        },
    )

    def first_error(self) -> str:
        for field in ("book", "email"):
            if field in self.errors:
                return self.errors[field][0]
        return "The request is not valid."


class RefundForm(forms.Form):
    """The admin's refund form: an amount as staff write it ("5.00"), a reason, and a page token.

    Staff think in money, not cents, so the amount is typed in the order's
    currency with its usual decimals (5.00 USD, 500 JPY) and converted to
    integer minor units by `shop.money.amount_to_minor_units`.
    """

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
        example = "5.00" if currency_decimals(currency) else "500"
        self.fields["amount"].label = f"Amount ({currency.upper()})"
        self.fields["amount"].help_text = f"In {currency.upper()}, e.g. {example}."

    def clean_amount(self) -> int:
        try:
            return amount_to_minor_units(text=self.cleaned_data["amount"], currency=self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
