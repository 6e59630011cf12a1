"""`manage.py seed_catalog`: the shop's own books with their covers, for a new database."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

SHOP_SLUGS = {"art-of-doing-science-and-engineering", "making-of-prince-of-persia", "working-in-public"}


def seed() -> str:
    output = io.StringIO()
    call_command("seed_catalog", stdout=output)
    return output.getvalue()


def test_a_new_catalog_gets_the_shops_books_with_covers_and_their_copies():
    assert "Added 3 of the shop's books." in seed()

    books = Book.objects.all()
    assert {book.slug for book in books} == SHOP_SLUGS
    for book in books:
        assert (book.cover_width, book.cover_height) == (800, 1200)
        with default_storage.open(book.cover.name) as stored:
            assert Image.open(stored).format == "PNG"
        assert default_storage.exists(book.cover_small.name) and default_storage.exists(book.cover_large.name)
    assert sorted(Book.objects.get(slug="working-in-public").subjects.values_list("slug", flat=True)) == [
        "open-source",
        "technology-and-society",
    ]


def test_a_second_run_changes_nothing():
    seed()
    before = list(Book.objects.values_list("slug", "cover", "updated_at").order_by("slug"))
    assert "Added 0 of the shop's books." in seed()
    assert list(Book.objects.values_list("slug", "cover", "updated_at").order_by("slug")) == before


def test_a_book_staff_already_have_keeps_its_values_and_gains_a_cover():
    BookFactory(slug="working-in-public", title="Renamed by staff", price_amount=9900)
    assert "Added 2 of the shop's books." in seed()
    book = Book.objects.get(slug="working-in-public")
    assert (book.title, book.price_amount) == ("Renamed by staff", 9900)
    assert book.cover.name.startswith("covers/working-in-public-")
