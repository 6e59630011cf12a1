"""The shop's own books, with their covers, for a new database (`load_demo_books`, `seed_catalog`).

`shop_books_seed()` adds each subject and book of demo/books.json that the
catalog lacks (matched by slug; one staff already have is never changed) and
gives a book of that list without a cover its cover from seed_covers/<slug>.png,
through the same check and metadata stripping as an upload in the admin.
Safe to repeat: a second run changes nothing.
"""

import json
from pathlib import Path

from django.core.files import File
from django.db import transaction

from shop.catalog.covers import cover_upload_clean
from shop.catalog.models import Book, Subject

CATALOG_DIR = Path(__file__).resolve().parent
SHOP_BOOKS = CATALOG_DIR / "demo" / "books.json"  # not in fixtures/: `loaddata books` never finds it
SEED_COVERS = CATALOG_DIR / "seed_covers"


@transaction.atomic
def shop_books_seed() -> int:
    """Add the shop's subjects and books the catalog lacks, and their covers; how many books were added."""
    entries = json.loads(SHOP_BOOKS.read_text())
    subjects = {}  # the fixture's subject pk -> the catalog's subject
    for entry in entries:
        if entry["model"] == "catalog.subject":
            fields = entry["fields"]
            subjects[entry["pk"]] = Subject.objects.get_or_create(slug=fields["slug"], defaults=fields)[0]
    added = 0
    for entry in entries:
        if entry["model"] != "catalog.book":
            continue
        fields = {
            name: value for name, value in entry["fields"].items() if name not in ("created_at", "updated_at")
        }
        subject_pks = fields.pop("subjects", [])
        book, created = Book.objects.get_or_create(slug=fields.pop("slug"), defaults=fields)
        if created:
            added += 1
            book.subjects.set([subjects[pk] for pk in subject_pks])
        cover = SEED_COVERS / f"{book.slug}.png"
        if not book.cover and cover.is_file():
            with cover.open("rb") as upload:
                book.cover = cover_upload_clean(File(upload, name=cover.name))
            book.save()
    return added
