"""The admin's book form: prices are typed as staff think of them ("23.00"), stored in minor units
(2300); an uploaded cover is checked and stripped of its metadata (shop/catalog/covers.py)."""

from django import forms
from django.core.files.uploadedfile import UploadedFile

from core.money import SUPPORTED_CURRENCIES, amount_to_minor_units, format_money, minor_units_to_text
from shop.catalog.covers import cover_upload_clean
from shop.catalog.models import Book

# Stripe's smallest charge, in minor units (also a database constraint on Book).
MINIMUM_PRICE = 50


class BookAdminForm(forms.ModelForm):
    price_amount = forms.CharField(
        label="Price",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
        help_text="In the book's currency, e.g. 23.00 for $23.00 (whole units for JPY and other "
        "zero-decimal currencies). Stripe's minimum is 0.50 USD.",
    )

    class Meta:
        model = Book
        fields = [
            "title",
            "author",
            "slug",
            "description",
            "cover",
            "isbn",
            "publication_year",
            "page_count",
            "subjects",
            "price_amount",
            "currency",
            "is_active",
        ]

    currency = forms.ChoiceField(
        choices=[(code, code.upper()) for code in SUPPORTED_CURRENCIES],
        initial="usd",
        help_text="The currency of the price; Stripe charges in it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.currency if self.instance.pk is not None else ""
        if "currency" in self.fields and current and current not in SUPPORTED_CURRENCIES:
            # A book priced in another currency keeps it until staff choose one of the list.
            self.fields["currency"].choices = [*self.fields["currency"].choices, (current, current.upper())]
        if self.instance.pk is not None and "price_amount" in self.fields:
            self.initial["price_amount"] = minor_units_to_text(
                amount=self.instance.price_amount, currency=self.instance.currency
            )

    def clean_cover(self):
        cover = self.cleaned_data.get("cover")
        if isinstance(cover, UploadedFile):  # a new upload; False = cleared, a FieldFile = kept
            return cover_upload_clean(cover)
        return cover

    def clean(self):
        cleaned = super().clean()
        price = cleaned.get("price_amount")
        # The change page may change the currency too; the book list edits the price alone.
        currency = cleaned.get("currency") or self.instance.currency or "usd"
        if price is None or "currency" in self.errors:
            return cleaned
        try:
            minor = amount_to_minor_units(text=price, currency=currency)
        except ValueError as exc:
            self.add_error("price_amount", str(exc))
            return cleaned
        if minor < MINIMUM_PRICE:
            self.add_error("price_amount", f"Stripe's minimum is {format_money(MINIMUM_PRICE, currency)}.")
            return cleaned
        cleaned["price_amount"] = minor
        return cleaned


class BookListForm(BookAdminForm):
    """A row of the admin's book list: its editable cells are named after the book (no column
    header labels a field for a screen reader)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("currency", None)  # declared on the page's form; the list edits price and active only
        title = self.instance.title
        names = {"price_amount": f"Price of {title}", "is_active": f"{title} is active"}
        for name, label in names.items():
            if name in self.fields:
                self.fields[name].widget.attrs["aria-label"] = label
