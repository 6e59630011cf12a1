import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def _save_must_fail(**fields) -> None:
    """Save a Book with `fields`, bypassing Python validation: the database must refuse it."""
    with pytest.raises(IntegrityError), transaction.atomic():
        BookFactory(**fields)


@pytest.mark.parametrize("price", [0, 1, 49])
def test_price_below_stripe_minimum_is_refused_by_the_database(price):
    _save_must_fail(price_amount=price)
    assert not Book.objects.filter(price_amount=price).exists()


def test_price_at_stripe_minimum_is_accepted():
    book = BookFactory(price_amount=50)
    book.refresh_from_db()
    assert book.price_amount == 50


@pytest.mark.parametrize("currency", ["USD", "us", "u1d", "Usd", "$$$"])
def test_currency_must_be_lowercase_iso_code(currency):
    _save_must_fail(currency=currency)
    assert not Book.objects.filter(currency=currency).exists()


def test_currency_lowercase_iso_code_is_accepted():
    assert BookFactory(currency="eur").currency == "eur"


def test_slug_is_unique():
    BookFactory(slug="same-slug")
    _save_must_fail(slug="same-slug")
    assert Book.objects.filter(slug="same-slug").count() == 1


def test_model_validation_reports_bad_price_and_currency():
    book = BookFactory.build(price_amount=10, currency="USD")
    with pytest.raises(ValidationError) as excinfo:
        book.full_clean()
    assert set(excinfo.value.message_dict) == {"price_amount", "currency"}


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(2300, "usd", "$23.00"), (129900, "eur", "€1,299.00"), (1500, "jpy", "¥1,500")],
)
def test_price_display(amount, currency, expected):
    assert BookFactory.build(price_amount=amount, currency=currency).price_display == expected


def test_get_absolute_url():
    assert BookFactory.build(slug="working-in-public").get_absolute_url() == "/books/working-in-public/"


def test_str_names_title_and_author():
    book = BookFactory.build(title="Stubborn Attachments", author="Tyler Cowen")
    assert "Stubborn Attachments" in str(book)
    assert "Tyler Cowen" in str(book)


def test_the_demo_books_load_into_an_empty_catalog():
    call_command("load_demo_books", stdout=io.StringIO())

    books = {book.title: book for book in Book.objects.all()}
    assert {title: (b.author, b.price_amount, b.currency, b.is_active) for title, b in books.items()} == {
        "The Art of Doing Science and Engineering": ("Richard Hamming", 2300, "usd", True),
        "The Making of Prince of Persia: Journals 1985-1993": ("Jordan Mechner", 2500, "usd", True),
        "Working in Public: The Making and Maintenance of Open Source": (
            "Nadia Eghbal",
            2800,
            "usd",
            True,
        ),
    }
    for book in books.values():
        assert book.description, f"{book.title} has no description"
        assert book.cover, f"{book.title} has no cover"
        book.full_clean()
    assert dict(Book.objects.values_list("slug", "stock")) == {
        "art-of-doing-science-and-engineering": 25,
        "making-of-prince-of-persia": 12,
        "working-in-public": 40,
    }


def test_the_demo_books_never_overwrite_a_live_catalog():
    call_command("load_demo_books", stdout=io.StringIO())
    Book.objects.update(stock=3, price_amount=1999)  # sold and repriced since
    live = list(Book.objects.order_by("pk").values_list("pk", "stock", "price_amount"))

    with pytest.raises(CommandError, match="already has 3 books: the demo books load only into an empty"):
        call_command("load_demo_books", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No fixture named 'books'"):
        call_command("loaddata", "books", verbosity=0)  # the demo books are no fixture any more
    skipped = io.StringIO()
    call_command("load_demo_books", "--if-empty", stdout=skipped)  # what `make run` does

    assert "not loaded" in skipped.getvalue()
    assert list(Book.objects.order_by("pk").values_list("pk", "stock", "price_amount")) == live


def test_the_demo_books_are_refused_beside_any_book():
    BookFactory(slug="staff-added")

    with pytest.raises(CommandError, match="already has 1 book:"):
        call_command("load_demo_books", stdout=io.StringIO())

    assert list(Book.objects.values_list("slug", flat=True)) == ["staff-added"]


def test_a_book_without_copies_is_sold_out():
    assert BookFactory.build(stock=0).is_sold_out
    assert not BookFactory.build(stock=1).is_sold_out
