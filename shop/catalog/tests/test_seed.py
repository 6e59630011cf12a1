"""`manage.py seed_catalog`: the shop's own books with their covers, for a new database."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
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


def seed_books(count: int, *extra: str) -> str:
    output = io.StringIO()
    call_command("seed_catalog", "--books", str(count), *extra, stdout=output)
    return output.getvalue()


def test_made_up_books_read_like_a_backlist_and_pass_the_admins_checks():
    assert "Added 60 made-up books" in seed_books(60, "--seed", "7")

    made_up = Book.objects.exclude(slug__in=SHOP_SLUGS).prefetch_related("subjects")
    assert made_up.count() == 60
    for book in made_up:
        book.full_clean()  # a valid ISBN-13, price, year, pages, unique slug
        assert book.isbn.startswith("9798") and 1 <= len(book.subjects.all()) <= 3
        assert 900 <= book.price_amount <= 4500 and book.author and book.description
    assert len({book.title for book in made_up}) > 30


def test_each_run_adds_more_books_and_a_seed_gives_the_same_ones():
    seed_books(10, "--seed", "3")
    first = list(Book.objects.exclude(slug__in=SHOP_SLUGS).order_by("id").values_list("title", "author"))
    seed_books(10, "--seed", "3")
    books = list(
        Book.objects.exclude(slug__in=SHOP_SLUGS).order_by("id").values_list("title", "author", "isbn")
    )
    assert len(books) == 20 and len({isbn for _, _, isbn in books}) == 20
    assert [(title, author) for title, author, _ in books[10:]] == first


def test_a_negative_number_of_books_is_refused():
    with pytest.raises(CommandError, match="--books takes a number from 0 up."):
        seed_books(-1)
