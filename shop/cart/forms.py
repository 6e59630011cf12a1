from django import forms

from shop.cart.models import MAX_COPIES_PER_BOOK
from shop.catalog.models import Book
from shop.vouchers.forms import DiscountCodeField

QUANTITY_ERROR = f"Choose a quantity from 1 to {MAX_COPIES_PER_BOOK}."
UPDATE_QUANTITY_ERROR = f"Choose a quantity from 0 to {MAX_COPIES_PER_BOOK} (0 removes the book)."


class CartAddForm(forms.Form):
    """POST /cart/add/: book=<slug>&quantity=<n> (default 1)."""

    book = forms.SlugField(
        max_length=200,
        error_messages={
            "required": "Choose a book.",
            "invalid": "We could not find that book.",
            "max_length": "We could not find that book.",
        },
    )
    quantity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_COPIES_PER_BOOK,
        error_messages={"invalid": QUANTITY_ERROR, "min_value": QUANTITY_ERROR, "max_value": QUANTITY_ERROR},
    )
    next = forms.CharField(required=False, max_length=2000)

    def clean_book(self) -> Book:
        # Inactive books are found too: the cart service refuses them with its own message.
        book = Book.objects.filter(slug=self.cleaned_data["book"]).first()
        if book is None:
            raise forms.ValidationError("We could not find that book.")
        return book

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data["quantity"]
        return 1 if quantity is None else quantity

    def first_error(self) -> str:
        for name in ("book", "quantity", "next"):
            if name in self.errors:
                return self.errors[name][0]
        return "The request is not valid."


class CartUpdateForm(CartAddForm):
    """POST /cart/update/: book=<slug>&quantity=<n>, 0 removes the book."""

    quantity = forms.IntegerField(
        min_value=0,
        max_value=MAX_COPIES_PER_BOOK,
        error_messages={
            "required": UPDATE_QUANTITY_ERROR,
            "invalid": UPDATE_QUANTITY_ERROR,
            "min_value": UPDATE_QUANTITY_ERROR,
            "max_value": UPDATE_QUANTITY_ERROR,
        },
    )

    def clean_quantity(self) -> int:
        return self.cleaned_data["quantity"]


class CartVoucherForm(forms.Form):
    """POST /cart/voucher/: code=<code> applies it; remove=1 takes the cart's code off."""

    code = DiscountCodeField(required=False)
    remove = forms.BooleanField(required=False)
    next = forms.CharField(required=False, max_length=2000)

    def clean(self):
        cleaned = super().clean()
        if "code" in cleaned and not cleaned["code"] and not cleaned.get("remove"):
            self.add_error("code", "Enter a discount code.")
        return cleaned

    def first_error(self) -> str:
        for name in ("code", "remove", "next"):
            if name in self.errors:
                return self.errors[name][0]
        return "The request is not valid."
