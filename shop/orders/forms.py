"""What staff may send about an order: the admin's "Mark as shipped" form."""

import re

from django import forms

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
