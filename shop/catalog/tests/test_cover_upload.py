"""Covers uploaded by staff in the admin: checked, stripped, stored, sized once, shown with srcset."""

import re

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse
from PIL import Image

from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.catalog.tests.images import picture_bytes, upload

pytestmark = pytest.mark.django_db

SRCSET = re.compile(r'<img src="([^"]+)" srcset="([^" ]+) 240w, ([^" ]+) 480w"')


def admin_post(admin_client, book: Book, **changes):
    data = {
        "title": book.title,
        "author": book.author,
        "slug": book.slug,
        "description": book.description,
        "price_amount": f"{book.price_amount / 100:.2f}",
        "currency": book.currency,
        "stock": str(book.stock),
        "is_active": "on",
        "_save": "Save",
        **changes,
    }
    return admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), data)


def stored_files() -> list[str]:
    found = []

    def walk(folder: str) -> None:
        folders, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{name}".lstrip("/") for name in files)
        for name in folders:
            walk(f"{folder}/{name}".lstrip("/"))

    if default_storage.exists(""):
        walk("")
    return sorted(found)


@pytest.fixture
def book():
    return BookFactory(title="The Dream Machine", author="M. Mitchell Waldrop", slug="dream-machine")


def test_an_uploaded_cover_is_stored_without_metadata_with_two_webp_copies(admin_client, book):
    response = admin_post(admin_client, book, cover=upload(picture_bytes(width=900, height=600, exif=True)))
    assert response.status_code == 302, response.content.decode()[:3000]

    book.refresh_from_db()
    assert re.fullmatch(r"covers/dream-machine-[0-9a-f]{8}\.jpg", book.cover.name)
    assert (book.cover_width, book.cover_height) == (600, 900)  # turned upright
    with default_storage.open(book.cover.name) as stored:
        assert dict(Image.open(stored).getexif()) == {}
    copies = [name for name in stored_files() if name.endswith(".webp")]
    sizes = sorted(Image.open(default_storage.open(name)).size for name in copies)
    assert sizes == [(240, 360), (480, 720)]
    assert all(Image.open(default_storage.open(name)).format == "WEBP" for name in copies)


def test_the_pages_offer_both_copies_with_the_covers_proportions(admin_client, client, book):
    admin_post(admin_client, book, cover=upload(picture_bytes(width=800, height=1200)))
    book.refresh_from_db()
    small, large = book.cover_small.url, book.cover_large.url
    assert small.startswith("/media/CACHE/") and large.endswith(".webp") and small != large

    for path in ["/", book.get_absolute_url()]:
        page = client.get(path).content.decode()
        src, srcset_small, srcset_large = SRCSET.search(page).groups()
        assert (src, srcset_small, srcset_large) == (small, small, large), path
        assert 'width="240" height="360"' in page
        for url in (small, large):
            assert default_storage.exists(url.removeprefix("/media/"))


def test_copies_are_made_once_per_cover_never_by_a_page(admin_client, client, book):
    admin_post(admin_client, book, cover=upload(picture_bytes()))
    book.refresh_from_db()
    copies = [name for name in stored_files() if name.endswith(".webp")]
    for name in copies:
        default_storage.delete(name)

    assert client.get(book.get_absolute_url()).status_code == 200
    assert client.get("/").status_code == 200
    admin_post(admin_client, book, price_amount="24.00")  # saved again, same cover

    assert [name for name in stored_files() if name.endswith(".webp")] == []


def test_a_new_cover_gets_a_new_name_and_its_own_copies(admin_client, book):
    admin_post(admin_client, book, cover=upload(picture_bytes(colour=(0, 0, 0))))
    book.refresh_from_db()
    first_name, first_copy = book.cover.name, book.cover_small.url
    admin_post(admin_client, book, cover=upload(picture_bytes(fmt="PNG"), name="new.png"))
    book.refresh_from_db()
    assert book.cover.name != first_name and book.cover.name.endswith(".png")
    assert book.cover_small.url != first_copy
    assert default_storage.exists(book.cover_small.url.removeprefix("/media/"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (picture_bytes(width=200, height=300), "200 pixels wide; a cover needs at least 300."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Upload a valid image"),
        (b"MZ\x90\x00 not a picture", "Upload a valid image"),
    ],
    ids=["narrow", "svg", "executable"],
)
def test_a_bad_upload_is_a_form_error_and_changes_nothing(admin_client, book, content, message):
    response = admin_post(admin_client, book, cover=upload(content, name="cover.jpg"), title="Changed")

    assert response.status_code == 200
    assert message in response.content.decode()
    book.refresh_from_db()
    assert (book.title, book.cover.name) == ("The Dream Machine", "")
    assert stored_files() == []


def test_a_cleared_cover_shows_the_drawn_one_again(admin_client, client, book):
    admin_post(admin_client, book, cover=upload(picture_bytes()))
    admin_post(admin_client, book, **{"cover-clear": "on"})
    book.refresh_from_db()
    assert not book.cover and book.cover_width is None
    assert "cover-placeholder" in client.get(book.get_absolute_url()).content.decode()


def test_a_book_without_a_cover_shows_one_drawn_from_its_title_and_author(client, book):
    page = client.get(book.get_absolute_url()).content.decode()
    assert re.search(
        r'<span class="cover-placeholder cover-placeholder--tone-[1-5]" aria-hidden="true">'
        r'<span class="cover-placeholder__title">The Dream Machine</span>'
        r'<span class="cover-placeholder__author">M. Mitchell Waldrop</span></span>',
        page,
    )
    assert "<img" not in page.split('<main id="main"')[1]


def test_a_page_never_asks_the_storage_about_a_cover(client, book, admin_client, monkeypatch):
    admin_post(admin_client, book, cover=upload(picture_bytes()))

    def no_reading(*args, **kwargs):
        raise AssertionError("a page opened a stored file")

    monkeypatch.setattr(FileSystemStorage, "open", no_reading)
    monkeypatch.setattr(FileSystemStorage, "exists", no_reading)
    assert client.get(book.get_absolute_url()).status_code == 200
    assert client.get(reverse("catalog:book_list")).status_code == 200
