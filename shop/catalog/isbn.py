"""ISBNs as the catalog keeps them: ISBN-13, thirteen digits, no hyphens (python-stdnum checks them).

`isbn_normalise()` takes what staff type or a spreadsheet holds (an ISBN-13
or ISBN-10, with hyphens or spaces) and gives the ISBN-13's digits, or raises
ValidationError naming what is wrong (length, characters, check digit,
prefix). `isbn_display()` hyphenates one for a page. ISBNField is a
CharField that normalises in model validation (`full_clean()`: the admin
form, the bulk import) and takes hyphenated input in forms.
"""

from django.core.exceptions import ValidationError
from django.db import models
from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import ValidationError as StdnumError

MESSAGES = {
    InvalidChecksum: "The check digit of this ISBN is wrong: check the number for a typo.",
    InvalidLength: "An ISBN has 13 digits (or 10 for an old ISBN-10).",
    InvalidFormat: "An ISBN has only digits, hyphens and spaces (and a final X in an ISBN-10).",
    InvalidComponent: "An ISBN-13 starts with 978 or 979.",
}


def isbn_normalise(value: str) -> str:
    """The ISBN-13 digits of `value` ("" for an empty value), or ValidationError."""
    if not value or not value.strip():
        return ""
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(value))
    except StdnumError as error:
        message = MESSAGES.get(type(error), "This is not a valid ISBN.")
        raise ValidationError(message, code="invalid_isbn") from error


def isbn_display(value: str) -> str:
    """An ISBN-13 hyphenated where its parts meet, e.g. 978-0-306-40615-7."""
    return stdnum_isbn.format(value) if value else ""


class ISBNField(models.CharField):
    """An ISBN-13 stored as 13 digits; forms take it hyphenated, or as an ISBN-10."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 13)
        super().__init__(*args, **kwargs)

    def clean(self, value, model_instance):
        # Model validation only: queries and saves take the value as it is (the database's check
        # constraint refuses one that is not 13 digits), so a lookup never raises.
        return super().clean(isbn_normalise(value or ""), model_instance)

    def formfield(self, **kwargs):
        # Room for hyphens and spaces; what is stored is checked after normalising.
        return super().formfield(**{"max_length": 20, **kwargs})
