"""Books in and out of CSV and XLSX files for staff (django-import-export, on the book admin).

One row per book, the columns of COLUMNS. Prices are written as staff read
them ("23.00" in the row's currency) and stored in minor units; subjects are
slugs or names separated by ";"; an ISBN may be hyphenated or an ISBN-10.

A row updates the book with its ISBN, else the one with its slug, else adds
a book; a row that would change nothing is skipped, so importing the same
file twice changes nothing the second time. Every row is checked as the
admin form checks a book (model validation): a bad ISBN, negative stock, a
price under Stripe's minimum or an unknown subject is an error on that row,
listed in the preview (a dry run, rolled back) before anything is written;
the import is one transaction, all rows or none. Covers are not imported.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import UniqueConstraint
from import_export import fields, resources, widgets

from core.money import amount_to_minor_units, format_money, minor_units_to_text
from shop.catalog.forms import MINIMUM_PRICE
from shop.catalog.isbn import isbn_normalise
from shop.catalog.models import Book, Subject

COLUMNS = (
    "isbn",
    "slug",
    "title",
    "author",
    "description",
    "price",
    "currency",
    "stock",
    "is_active",
    "publication_year",
    "page_count",
    "subjects",
)
SUBJECT_SEPARATOR = ";"


def _currency(row) -> str:
    return str((row or {}).get("currency") or "usd").strip().lower()


class ISBNWidget(widgets.CharWidget):
    """An ISBN as typed (hyphens, ISBN-10) to its 13 stored digits; ValueError for a wrong one."""

    def clean(self, value, row=None, **kwargs):
        try:
            return isbn_normalise(str(value or ""))
        except ValidationError as error:
            raise ValueError(error.messages[0]) from error


class PriceWidget(widgets.Widget):
    """ "23.00" in the row's currency to 2300; ValueError below Stripe's minimum."""

    def clean(self, value, row=None, **kwargs):
        currency = _currency(row)
        try:
            text = format(Decimal(str(value).strip()), "f")  # a spreadsheet's number, or text
        except InvalidOperation:
            text = str(value)
        minor = amount_to_minor_units(text=text, currency=currency)
        if minor < MINIMUM_PRICE:
            raise ValueError(f"Stripe's minimum is {format_money(MINIMUM_PRICE, currency)}.")
        return minor


class SubjectsWidget(widgets.ManyToManyWidget):
    """ "design; Open source" to those subjects, by slug or name; ValueError naming unknown ones.

    The subjects are read once per import (`subjects_load()`): a few dozen rows, where a lookup
    per row and column would cost thousands of queries in a file of 1,000 books.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.known: dict[str, Subject] | None = None

    def subjects_load(self) -> None:
        self.known = {}
        for subject in Subject.objects.all():
            self.known[subject.slug.lower()] = self.known[subject.name.lower()] = subject

    def clean(self, value, row=None, **kwargs):
        if self.known is None:
            self.subjects_load()
        wanted = [part.strip() for part in str(value or "").split(self.separator) if part.strip()]
        unknown = [part for part in wanted if part.lower() not in self.known]
        if unknown:
            raise ValueError(
                f"Unknown subject: {', '.join(unknown)}. Add it under Catalog › Subjects first, "
                "or correct the row."
            )
        return list({self.known[part.lower()].pk: self.known[part.lower()] for part in wanted}.values())

    def render(self, value, obj=None, **kwargs):
        return f"{self.separator} ".join(subject.slug for subject in value.all()) if value is not None else ""


class BookResource(resources.ModelResource):
    isbn = fields.Field(attribute="isbn", column_name="isbn", widget=ISBNWidget())
    # An empty spreadsheet cell is "", as the admin form stores an empty description.
    description = fields.Field(
        attribute="description", column_name="description", widget=widgets.CharWidget()
    )
    price = fields.Field(attribute="price_amount", column_name="price", widget=PriceWidget())
    subjects = fields.Field(
        attribute="subjects",
        column_name="subjects",
        widget=SubjectsWidget(model=Subject, field="slug", separator=SUBJECT_SEPARATOR),
    )

    class Meta:
        model = Book
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("slug",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        self.fields["subjects"].widget.subjects_load()  # the subjects as they are now
        super().before_import(dataset, **kwargs)

    def get_instance(self, instance_loader, row):
        """The book with the row's ISBN, else the one with its slug."""
        try:
            isbn = isbn_normalise(str(row.get("isbn") or ""))
        except ValidationError:
            isbn = ""  # reported on the row by ISBNWidget
        if isbn and (book := Book.objects.filter(isbn=isbn).first()):
            return book
        slug = str(row.get("slug") or "").strip()
        return Book.objects.filter(slug=slug).first() if slug else None

    def import_instance(self, instance, row, **kwargs):
        # Subjects are set after the save; check them with the other columns, so an unknown
        # one is a row error in the preview rather than a failure of the import.
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "subjects" in row:
            try:
                self.fields["subjects"].clean(row)
            except ValueError as error:
                errors["subjects"] = [str(error)]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The admin form's checks, less the check constraints: each costs a query per row, and
        each repeats a field's validator (price, currency, stock, year, pages; the ISBN's digits
        by its widget). The database still enforces them; the ISBN's uniqueness is checked here."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=errors.keys(), validate_unique=validate_unique, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for constraint in Book._meta.constraints:
            if isinstance(constraint, UniqueConstraint):
                try:
                    constraint.validate(Book, instance, exclude=set(errors))
                except ValidationError as error:
                    errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def dehydrate_price(self, book: Book) -> str:
        return minor_units_to_text(amount=book.price_amount, currency=book.currency)
