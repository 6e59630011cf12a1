"""What shoppers and staff may send: the checkout's start request and the admin's refund form."""

from django import forms
from django.conf import settings

from core.money import amount_to_minor_units, currency_decimals
from shop.cart.forms import QUANTITY_ERROR
from shop.cart.models import MAX_COPIES_PER_BOOK
from shop.orders.addresses import AddressInvalid, address_clean
from shop.orders.shipping import ShippingAddress
from shop.vouchers.forms import DiscountCodeField

# The JSON name of each shipping field, for error answers that name it.
SHIPPING_JSON_NAMES = {
    "name": "shipping.name",
    "phone": "shipping.phone",
    "line1": "shipping.address.line1",
    "line2": "shipping.address.line2",
    "city": "shipping.address.city",
    "state": "shipping.address.state",
    "postal_code": "shipping.address.postal_code",
    "country": "shipping.address.country",
}


def utf8_encodable(value: str) -> None:
    """Refuse text UTF-8 cannot carry: a lone surrogate ("\\ud800" is valid JSON) cannot be stored."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise forms.ValidationError("This contains characters that are not valid text.") from exc


def json_code(value) -> str:
    """A discount code from JSON: text as it is, null as none; anything else can never be a code."""
    if value is None or isinstance(value, str):
        return value or ""
    return "\x00"  # a number, list or object: refused by DiscountCodeField with its usual message


def _text(max_length: int, required_message: str | None = None) -> forms.CharField:
    if required_message is None:
        return forms.CharField(max_length=max_length, required=False, validators=[utf8_encodable])
    return forms.CharField(
        max_length=max_length, error_messages={"required": required_message}, validators=[utf8_encodable]
    )


def _quantity() -> forms.IntegerField:
    """Copies of the book bought now: 1 when not given."""
    errors = {"invalid": QUANTITY_ERROR, "min_value": QUANTITY_ERROR, "max_value": QUANTITY_ERROR}
    return forms.IntegerField(
        required=False, min_value=1, max_value=MAX_COPIES_PER_BOOK, error_messages=errors
    )


class BuyNowForm(forms.Form):
    """ "Buy now" on the book page (POST), and the checkout page's ?quantity= (GET)."""

    quantity = _quantity()

    def clean_quantity(self) -> int:
        return self.cleaned_data["quantity"] or 1


class CreateIntentForm(forms.Form):
    """What the browser may send to start a payment: ids, an address, never amounts.

    `expected_total` is the total the shopper saw, checked against the
    server's, never used as the amount. Build it with `from_json`.
    """

    book = forms.SlugField(max_length=200, required=False, validators=[utf8_encodable])
    quantity = _quantity()  # of the book, when one is named
    email = forms.EmailField(
        max_length=254,
        validators=[utf8_encodable],
        error_messages={
            "required": "Enter your email address so we can send your receipt.",
            "invalid": "Enter a valid email address, like you@example.com.",
        },
    )
    expected_total = forms.IntegerField(
        min_value=0,
        max_value=10**9,
        error_messages={
            "required": "The total you saw is missing. Reload the page and try again.",
            "invalid": "The total you saw is not valid. Reload the page and try again.",
        },
    )
    name = _text(200, "Enter the name to ship your books to.")
    phone = _text(40)
    line1 = _text(200, "Enter the street address to ship your books to.")
    line2 = _text(200)
    city = _text(100, "Enter the city to ship your books to.")
    state = _text(100)
    # Required or not by country (shop/orders/addresses.py): Ireland's Eircode is optional.
    postal_code = _text(20)
    country = _text(2, "Choose the country to ship your books to.")
    # The code the shopper saw applied: the server prices it again, amounts are never taken from here.
    voucher_code = DiscountCodeField(required=False)

    ORDER = [
        "book",
        "quantity",
        "email",
        "name",
        "line1",
        "line2",
        "city",
        "state",
        "postal_code",
        "country",
        "phone",
        "voucher_code",
    ]

    @classmethod
    def from_json(cls, data: dict) -> "CreateIntentForm":
        shipping = data.get("shipping")
        shipping = shipping if isinstance(shipping, dict) else {}
        address = shipping.get("address")
        address = address if isinstance(address, dict) else {}
        quantity = data.get("quantity")
        if not (quantity is None or (isinstance(quantity, int) and not isinstance(quantity, bool))):
            quantity = "not a number"  # JSON integers only
        fields = {
            "book": data.get("book") or "",
            "quantity": quantity,
            "email": data.get("email"),
            "expected_total": None,
        }
        total = data.get("expected_total")
        # JSON numbers only (not "12", not 12.5, not true).
        if isinstance(total, int) and not isinstance(total, bool):
            fields["expected_total"] = total
        elif total is not None:
            fields["expected_total"] = "not a number"
        fields["name"], fields["phone"] = shipping.get("name"), shipping.get("phone")
        for part in ("line1", "line2", "city", "state", "postal_code", "country"):
            fields[part] = address.get(part)
        fields = {
            k: (v if isinstance(v, str | int) and not isinstance(v, bool) else None)
            for k, v in fields.items()
        }
        return cls(fields | {"voucher_code": json_code(data.get("voucher_code"))})

    def clean_quantity(self) -> int:
        return self.cleaned_data["quantity"] or 1

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country and country not in settings.SHIPPING_COUNTRIES:
            raise forms.ValidationError("We do not ship to that country yet.")
        return country

    def clean(self):
        """The address checked against its country's rules (parts, postcode pattern, state names)."""
        cleaned = super().clean()
        address_parts = ("name", "line1", "line2", "city", "state", "postal_code", "country", "phone")
        if any(part in self.errors for part in address_parts):
            return cleaned
        try:
            self._shipping = address_clean(self._address_as_given())
        except AddressInvalid as problem:
            self.add_error(problem.part, problem.message)
        return cleaned

    def _address_as_given(self) -> ShippingAddress:
        data = self.cleaned_data
        return ShippingAddress(
            **{part: data[part].strip() for part in SHIPPING_JSON_NAMES if isinstance(data.get(part), str)}
        )

    def first_error(self) -> tuple[str, str]:
        """(message, JSON name of the field) of the first problem."""
        for field in [*self.ORDER, "expected_total"]:
            if field in self.errors:
                return self.errors[field][0], SHIPPING_JSON_NAMES.get(field, field)
        return "The request is not valid.", ""

    def shipping(self) -> ShippingAddress:
        """The address as the order keeps it: checked and normalised (postcode, state code)."""
        return self._shipping


class CheckoutDiscountForm(forms.Form):
    """POST /payments/discount/ {"book"?, "voucher_code"}: the checkout priced with a code ("" removes it)."""

    book = forms.SlugField(max_length=200, required=False, validators=[utf8_encodable])
    voucher_code = DiscountCodeField(required=False)

    @classmethod
    def from_json(cls, data: dict) -> "CheckoutDiscountForm":
        book = data.get("book") or ""
        return cls(
            {
                "book": book if isinstance(book, str) else None,
                "voucher_code": json_code(data.get("voucher_code")),
            }
        )

    def first_error(self) -> tuple[str, str]:
        for field in ("voucher_code", "book"):
            if field in self.errors:
                return self.errors[field][0], field
        return "The request is not valid.", ""


class RefundForm(forms.Form):
    """The admin's refund form: an amount as staff write it ("5.00"), a reason, and a page token.

    Staff think in money, not cents, so the amount is typed in the order's
    currency with its usual decimals (5.00 USD, 500 JPY) and converted to
    integer minor units by `core.money.amount_to_minor_units`.
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
    # Offered while the order still holds copies (not shipped): a full refund may put them back.
    restock = forms.BooleanField(
        required=False,
        help_text="The books never left the shop: they go back on the shelf and can be sold again. "
        "Only with a full refund.",
    )
    # Offered while the order holds a use of its discount code: a full refund may give it back.
    voucher_use_back = forms.BooleanField(required=False, help_text="Only with a full refund.")

    def __init__(self, *args, currency: str, copies: int = 0, voucher_code: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        if copies:
            self.fields["restock"].label = f"Put {copies} {'copy' if copies == 1 else 'copies'} back in stock"
        else:
            del self.fields["restock"]
        if voucher_code:
            self.fields["voucher_use_back"].label = f"Give the use of discount code {voucher_code} back"
        else:
            del self.fields["voucher_use_back"]
        example = "5.00" if currency_decimals(currency) else "500"
        self.fields["amount"].label = f"Amount ({currency.upper()})"
        self.fields["amount"].help_text = f"In {currency.upper()}, e.g. {example}."

    def clean_amount(self) -> int:
        try:
            return amount_to_minor_units(text=self.cleaned_data["amount"], currency=self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
