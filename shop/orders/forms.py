"""Forms about orders: the admin's "Mark as shipped", and the shopper's "Find my orders"."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from shop.orders.models import Carrier

# Carriers' numbers are letters and digits (UPS 1Z…, Royal Mail AB123456789GB), sometimes grouped
# with spaces or hyphens as printed on the label: those are dropped, so a copy-paste matches.
TRACKING_NUMBER = re.compile(r"^[A-Z0-9]{4,40}$")


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(choices=[("", "Choose a carrier"), *Carrier.choices])
    tracking_number = forms.CharField(
        max_length=64,
        help_text="As printed on the label; spaces and hyphens are ignored. "
        "The tracking link is made from the carrier (none for Other).",
        error_messages={"required": "Enter the parcel's tracking number."},
    )

    ship_anyway = forms.BooleanField(
        label="Ship anyway",
        error_messages={"required": 'This order\'s payment is disputed: tick "Ship anyway" to ship it.'},
    )

    def __init__(self, *args, dispute_warning: str = "", **kwargs):
        """`dispute_warning`: the order is disputed, and staff confirm to ship it (else no such field)."""
        super().__init__(*args, **kwargs)
        if dispute_warning:
            self.fields["ship_anyway"].help_text = dispute_warning
        else:
            del self.fields["ship_anyway"]

    def clean_tracking_number(self) -> str:
        number = re.sub(r"[\s-]+", "", self.cleaned_data["tracking_number"]).upper()
        if not TRACKING_NUMBER.match(number):
            raise forms.ValidationError("A tracking number is 4 to 40 letters and digits.")
        return number


EMAIL_INVALID = "Enter the email address you ordered with, like ada@example.com."


class FindOrdersForm(forms.Form):
    """An address to send the list of its orders to; each way to get it wrong has one plain error.

    Length and NUL bytes are checked before the address's shape, so a 10 KB
    paste is told it is too long rather than malformed.
    """

    email = forms.CharField(
        max_length=254,  # what an SMTP path allows
        error_messages={
            "required": "Enter the email address you ordered with.",
            "max_length": "That is too long to be an email address.",
            "null_characters_not_allowed": EMAIL_INVALID,
        },
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(EMAIL_INVALID, code="invalid") from None
        return email

    def email_as_typed(self) -> str:
        """What the shopper typed, to show back in the field: printable characters, at most 254."""
        typed = self["email"].value() or ""
        return "".join(ch for ch in str(typed) if ch.isprintable())[:254]
