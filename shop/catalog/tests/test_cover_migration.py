"""The data migration that turns static cover paths into stored covers (0006), run on the
historical model as `migrate` runs it."""

import importlib

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from PIL import Image

from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("shop.catalog.migrations.0006_book_covers_to_storage")


def carry(static_covers: dict[str, str]) -> None:
    for slug, path in static_covers.items():
        Book.objects.filter(pk=BookFactory(slug=slug).pk).update(cover=path)  # as a static path was stored
    state = MigrationLoader(connection).project_state(("catalog", "0006_book_covers_to_storage"))
    MIGRATION.carry_covers(state.apps, None)


def test_the_shops_svg_covers_become_stored_pngs_with_their_copies():
    carry({"working-in-public": "covers/working-in-public.svg"})

    book = Book.objects.get()
    assert book.cover.name.startswith("covers/working-in-public-") and book.cover.name.endswith(".png")
    assert (book.cover_width, book.cover_height) == (800, 1200)
    with default_storage.open(book.cover.name) as stored:
        assert Image.open(stored).format == "PNG"
    for copy in (book.cover_small, book.cover_large):
        assert default_storage.exists(copy.name)


def test_a_cover_that_cannot_be_carried_is_cleared_for_the_drawn_one():
    carry({"unknown": "covers/someone-elses.svg", "gone": "covers/missing.png"})
    assert list(Book.objects.values_list("cover", "cover_width")) == [("", None), ("", None)]


def test_a_raster_static_cover_is_copied(settings, tmp_path):
    static = tmp_path / "static"
    (static / "covers").mkdir(parents=True)
    (static / "covers" / "own.png").write_bytes(
        (MIGRATION.SEED_COVERS / "making-of-prince-of-persia.png").read_bytes()
    )
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, static]

    carry({"own": "covers/own.png"})

    book = Book.objects.get()
    assert book.cover.name.startswith("covers/own-") and book.cover_width == 800


def test_a_second_run_changes_nothing():
    carry({"working-in-public": "covers/working-in-public.svg"})
    name = Book.objects.get().cover.name
    state = MigrationLoader(connection).project_state(("catalog", "0006_book_covers_to_storage"))
    MIGRATION.carry_covers(state.apps, None)
    assert Book.objects.get().cover.name == name
