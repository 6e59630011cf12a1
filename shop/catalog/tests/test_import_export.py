"""Bulk import and export of books by staff (shop/catalog/resources.py, the book admin): CSV and
XLSX, a preview listing row errors before anything is written, idempotent by ISBN or slug,
1,000 rows in one go, only for staff who may add and change books."""

import csv
import io
import re
import urllib.error
import urllib.request

import openpyxl
import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from config.media import import_storage
from shop.catalog.models import Book
from shop.catalog.resources import COLUMNS
from shop.catalog.tests.factories import BookFactory, SubjectFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:catalog_book_import")
CONFIRM_URL = reverse("admin:catalog_book_process_import")
EXPORT_URL = reverse("admin:catalog_book_export")
HEADER = list(COLUMNS)
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # the positions of CSV and XLSX in the admin's formats
EXPORT_EVERY_COLUMN_AS_CSV = {
    "format": CSV_FORMAT,
    "resource": "0",
    **{f"bookresource_{column}": "on" for column in COLUMNS},
}


@pytest.fixture(autouse=True)
def import_files(settings, tmp_path):
    """Import files wait for their confirmation in this test's own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "import_export": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "imports"},
        },
    }


@pytest.fixture
def subjects():
    return [
        SubjectFactory(name="Design", slug="design"),
        SubjectFactory(name="Open source", slug="open-source"),
    ]


def row(**values) -> dict:
    return {
        "isbn": "",
        "slug": "a-book",
        "title": "A Book",
        "author": "An Author",
        "description": "",
        "price": "23.00",
        "currency": "usd",
        "stock": "5",
        "is_active": "1",
        "publication_year": "2020",
        "page_count": "300",
        "subjects": "",
        **values,
    }


def csv_file(rows: list[dict], name: str = "books.csv") -> io.BytesIO:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    upload = io.BytesIO(text.getvalue().encode())
    upload.name = name
    return upload


def xlsx_file(rows: list[dict]) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for values in rows:
        sheet.append([values[column] for column in HEADER])
    upload = io.BytesIO()
    workbook.save(upload)
    upload.seek(0)
    upload.name = "books.xlsx"
    return upload


def preview(client, upload, fmt: str = CSV_FORMAT):
    """Upload a file: the dry run's preview page."""
    return client.post(IMPORT_URL, {"import_file": upload, "format": fmt, "resource": "0"})


def confirm(client, preview_response):
    page = preview_response.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    data = {name: fields[name] for name in ("import_file_name", "original_file_name", "format", "resource")}
    return client.post(CONFIRM_URL, data)


def import_file(client, upload, fmt: str = CSV_FORMAT):
    shown = preview(client, upload, fmt)
    assert shown.status_code == 200
    assert 'name="import_file_name"' in shown.content.decode(), shown.content.decode()[-3000:]
    done = confirm(client, shown)
    assert done.status_code == 302, done.content.decode()[-3000:]


def test_a_file_with_bad_rows_lists_each_error_and_writes_nothing(admin_client, subjects):
    BookFactory(slug="kept", title="Kept as it was", stock=3)
    rows = [
        row(slug="good", title="Good"),
        row(slug="bad-isbn", isbn="978-0-306-40615-8"),
        row(slug="negative-stock", stock="-2"),
        row(slug="too-cheap", price="0.20"),
        row(slug="no-price", price="about twenty"),
        row(slug="unknown-subject", subjects="design; Cookery"),
        row(slug="kept", title="Changed", stock="9"),
    ]

    response = preview(admin_client, csv_file(rows))

    page = response.content.decode()
    assert response.status_code == 200
    assert "The check digit of this ISBN is wrong" in page
    assert "Ensure this value is greater than or equal to 0." in page
    assert "Stripe&#x27;s minimum is $0.50." in page
    assert "Enter an amount like 5.00" in page
    assert "Unknown subject: Cookery." in page
    assert 'name="import_file_name"' not in page  # nothing to confirm
    assert list(Book.objects.values_list("slug", "title", "stock")) == [("kept", "Kept as it was", 3)]


def test_the_preview_writes_nothing_and_the_confirmation_writes_every_row(admin_client, subjects):
    rows = [
        row(slug="hamming", title="The Art of Doing Science", isbn="978-0-306-40615-7", subjects="design"),
        row(
            slug="eghbal", title="Working in Public", price="28.50", subjects="Open source;design", stock="0"
        ),
        row(slug="yen", title="Priced in yen", price="3000", currency="jpy", isbn=""),
    ]
    shown = preview(admin_client, csv_file(rows))
    assert shown.status_code == 200 and Book.objects.count() == 0

    done = confirm(admin_client, shown)

    assert done.status_code == 302
    books = {book.slug: book for book in Book.objects.prefetch_related("subjects")}
    assert set(books) == {"hamming", "eghbal", "yen"}
    assert books["hamming"].isbn == "9780306406157"
    assert (books["eghbal"].price_amount, books["eghbal"].stock) == (2850, 0)
    assert (books["yen"].price_amount, books["yen"].currency) == (3000, "jpy")
    assert {subject.slug for subject in books["eghbal"].subjects.all()} == {"design", "open-source"}
    assert books["hamming"].publication_year == 2020 and books["hamming"].page_count == 300


def test_importing_the_same_file_twice_changes_nothing_the_second_time(admin_client, subjects):
    rows = [row(slug=f"book-{n}", title=f"Book {n}", subjects="design") for n in range(5)]
    rows[0]["isbn"] = "978-0-306-40615-7"
    import_file(admin_client, csv_file(rows))
    before = list(Book.objects.order_by("slug").values_list("slug", "title", "updated_at", "isbn"))

    shown = preview(admin_client, csv_file(rows))
    assert "Skipped" in shown.content.decode() or "skip" in shown.content.decode().lower()
    confirm(admin_client, shown)

    assert list(Book.objects.order_by("slug").values_list("slug", "title", "updated_at", "isbn")) == before


def test_a_row_updates_the_book_with_its_isbn_else_its_slug(admin_client):
    by_isbn = BookFactory(slug="old-slug", isbn="9780306406157", title="Old title")
    by_slug = BookFactory(slug="by-slug", title="Old too")
    rows = [
        row(slug="new-slug", isbn="0-306-40615-2", title="New title"),  # the same ISBN, as an ISBN-10
        row(slug="by-slug", title="New too"),
    ]

    import_file(admin_client, csv_file(rows))

    assert Book.objects.count() == 2
    by_isbn.refresh_from_db()
    by_slug.refresh_from_db()
    assert (by_isbn.slug, by_isbn.title) == ("new-slug", "New title")
    assert by_slug.title == "New too"


def test_an_xlsx_file_imports_like_a_csv(admin_client, subjects):
    rows = [
        row(slug="from-excel", price=19.5, stock=4, publication_year=2019, page_count=120, subjects="design")
    ]
    import_file(admin_client, xlsx_file(rows), fmt=XLSX_FORMAT)
    book = Book.objects.get(slug="from-excel")
    assert (book.price_amount, book.stock, book.publication_year) == (1950, 4, 2019)


def test_a_thousand_rows_in_one_go_and_again_without_a_change(admin_client, subjects):
    rows = [
        row(
            slug=f"book-{n:04d}",
            title=f"Book {n:04d}",
            price=f"{10 + n % 40}.99",
            stock=str(n % 30),
            subjects="design" if n % 2 else "open-source",
        )
        for n in range(1000)
    ]
    import_file(admin_client, csv_file(rows))
    assert Book.objects.count() == 1000
    assert Book.objects.get(slug="book-0041").price_amount == 1199
    stamp = list(Book.objects.order_by("id").values_list("updated_at", flat=True))

    import_file(admin_client, csv_file(rows))
    assert list(Book.objects.order_by("id").values_list("updated_at", flat=True)) == stamp


def test_export_writes_every_column_as_staff_read_them(admin_client, subjects):
    BookFactory(
        slug="hamming",
        title="Hamming",
        isbn="9780306406157",
        price_amount=2350,
        stock=7,
        publication_year=2020,
        page_count=432,
        subjects=subjects,
    )

    response = admin_client.post(EXPORT_URL, EXPORT_EVERY_COLUMN_AS_CSV)

    assert response.status_code == 200, response.content.decode()[-2000:]
    exported = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(exported[0]) == HEADER
    assert {key: exported[0][key] for key in ("isbn", "slug", "price", "stock", "subjects")} == {
        "isbn": "9780306406157",
        "slug": "hamming",
        "price": "23.50",
        "stock": "7",
        "subjects": "design; open-source",
    }


def test_an_export_file_imports_back_without_a_change(admin_client, subjects):
    BookFactory.create_batch(3, subjects=subjects[:1], publication_year=2001)
    exported = admin_client.post(EXPORT_URL, EXPORT_EVERY_COLUMN_AS_CSV)
    before = list(Book.objects.order_by("id").values_list("updated_at", flat=True))
    upload = io.BytesIO(exported.content)
    upload.name = "export.csv"
    import_file(admin_client, upload)
    assert list(Book.objects.order_by("id").values_list("updated_at", flat=True)) == before


def staff(*codenames: str) -> Client:
    user = User.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def test_staff_without_the_change_permission_cannot_import(subjects):
    clerk = staff("view_book", "add_book")
    assert clerk.get(IMPORT_URL).status_code == 403
    assert clerk.post(IMPORT_URL, {"import_file": csv_file([row()]), "format": CSV_FORMAT}).status_code == 403
    listing = clerk.get(reverse("admin:catalog_book_changelist")).content.decode()
    assert IMPORT_URL not in listing and EXPORT_URL in listing
    assert not Book.objects.exists()


def test_staff_who_may_add_and_change_books_can_import(subjects):
    editor = staff("view_book", "add_book", "change_book")
    assert IMPORT_URL in editor.get(reverse("admin:catalog_book_changelist")).content.decode()
    import_file(editor, csv_file([row(slug="by-the-editor")]))
    assert Book.objects.filter(slug="by-the-editor").exists()


def test_with_s3_media_an_import_file_waits_in_the_bucket_where_nobody_may_read_it(
    s3_media, settings, admin_client
):
    settings.STORAGES = {
        **settings.STORAGES,
        "import_export": import_storage(kind="s3", s3=s3_media.options, root=settings.BASE_DIR),
    }
    shown = preview(admin_client, csv_file([row(slug="from-the-bucket")]))

    waiting = [key for key in s3_media.object_keys() if key.startswith("private/imports/")]
    assert len(waiting) == 1
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{s3_media.server.url}/{s3_media.name}/{waiting[0]}", timeout=5)
    assert refused.value.code == 403
    assert confirm(admin_client, shown).status_code == 302
    assert Book.objects.filter(slug="from-the-bucket").exists()
    assert not [key for key in s3_media.object_keys() if key.startswith("private/")]  # removed once imported
