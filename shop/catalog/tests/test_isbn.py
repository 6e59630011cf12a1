"""ISBN-13: checked by python-stdnum, hyphens accepted, stored as 13 digits, unique when present."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse

from shop.catalog.isbn import isbn_display, isbn_normalise
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("978-0-306-40615-7", "9780306406157"),
        ("978 0 306 40615 7", "9780306406157"),
        ("9780306406157", "9780306406157"),
        ("0-306-40615-2", "9780306406157"),  # an ISBN-10 becomes its ISBN-13
        ("979-10-90636-07-1", "9791090636071"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_what_staff_type_is_stored_as_thirteen_digits(typed, stored):
    assert isbn_normalise(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("978-0-306-40615-8", "The check digit of this ISBN is wrong"),
        ("97803064061", "An ISBN has 13 digits"),
        ("978-0-306-4061A-7", "only digits, hyphens and spaces"),
        ("977-1-234567-00-3", "starts with 978 or 979"),
    ],
)
def test_a_wrong_isbn_says_what_is_wrong(typed, message):
    with pytest.raises(ValidationError, match=message):
        isbn_normalise(typed)


def test_a_stored_isbn_is_shown_hyphenated():
    assert isbn_display("9780306406157") == "978-0-306-40615-7"
    assert isbn_display("") == ""


@pytest.mark.django_db
def test_model_validation_normalises_the_isbn():
    book = BookFactory.build(isbn="0-306-40615-2")
    book.full_clean()
    assert book.isbn == "9780306406157"


@pytest.mark.django_db
def test_isbns_are_unique_when_present_and_any_number_of_books_have_none():
    BookFactory.create_batch(2, isbn="")
    BookFactory(isbn="9780306406157")
    with pytest.raises(IntegrityError), transaction.atomic():
        BookFactory(isbn="9780306406157")
    with pytest.raises(ValidationError, match="A book with this ISBN is already in the catalog."):
        BookFactory.build(isbn="978-0-306-40615-7").full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("isbn", ["978-0-306-40615-7", "0306406152", "97803064061x7"])
def test_the_database_refuses_an_isbn_that_is_not_thirteen_digits(isbn):
    # PostgreSQL refuses a longer value for its length (DataError), SQLite for the check constraint.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        BookFactory(isbn=isbn)  # saved without validation


@pytest.mark.django_db
def test_the_admin_takes_a_hyphenated_isbn_and_refuses_a_duplicate(admin_client):
    BookFactory(isbn="9780306406157", slug="first")
    data = {
        "title": "Second",
        "author": "A. Author",
        "slug": "second",
        "description": "",
        "isbn": "978-1-7322651-0-3",
        "publication_year": "2018",
        "page_count": "350",
        "price_amount": "23.00",
        "currency": "usd",
        "stock": "5",
        "is_active": "on",
    }
    response = admin_client.post(reverse("admin:catalog_book_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Book.objects.get(slug="second").isbn == "9781732265103"

    duplicate = admin_client.post(
        reverse("admin:catalog_book_add"), {**data, "slug": "third", "isbn": "0-306-40615-2"}
    )
    assert duplicate.status_code == 200
    assert "A book with this ISBN is already in the catalog." in duplicate.content.decode()

    wrong = admin_client.post(
        reverse("admin:catalog_book_add"), {**data, "slug": "fourth", "isbn": "978-1-7322651-0-2"}
    )
    assert "The check digit of this ISBN is wrong" in wrong.content.decode()
    assert not Book.objects.filter(slug__in=["third", "fourth"]).exists()


@pytest.mark.django_db
def test_the_admin_list_finds_a_book_by_its_isbn_as_printed(admin_client):
    BookFactory(title="Found", isbn="9780306406157")
    BookFactory(title="Other", isbn="9781732265103")
    for term in ["978-0-306-40615-7", "0-306-40615-2", "0306406"]:
        response = admin_client.get(reverse("admin:catalog_book_changelist"), {"q": term})
        assert [book.title for book in response.context["cl"].result_list] == ["Found"], term
