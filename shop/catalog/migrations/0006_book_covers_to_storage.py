"""Covers named by a static path (covers/<name>.svg, .png, ...) become stored uploads.

An SVG the shop ships as a book's cover (shop/catalog/seed_covers/<name>.svg) is
carried as the PNG rendering beside it (800 × 1200 pixels, drawn by Chromium
from the SVG): Pillow reads no SVG, and rasterising one at migration time would
need system libraries a host may lack. A raster cover the static files finders
know is copied as it is. Any other cover is cleared: the book shows its drawn
placeholder until staff upload one. Each carried cover's sized copies are made
here, as a save through the admin makes them.
"""

import io
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import migrations
from PIL import Image

SEED_COVERS = Path(__file__).resolve().parent.parent / "seed_covers"
RASTER = (".png", ".jpg", ".jpeg", ".webp")


def static_cover_bytes(path: str) -> tuple[str, bytes] | None:
    """(file name, content) to store for the static cover `path`, or None when there is none."""
    name = Path(path).name
    if name.endswith(".svg"):
        rendering = SEED_COVERS / name.replace(".svg", ".png")
        return (rendering.name, rendering.read_bytes()) if rendering.is_file() else None
    if name.lower().endswith(RASTER) and (found := finders.find(path)):
        return name, Path(found).read_bytes()
    return None


def carry_covers(apps, schema_editor):
    from shop.catalog.covers import cover_variants_make

    Book = apps.get_model("catalog", "Book")
    field = Book._meta.get_field("cover")
    # Rows, not models: a model with a cover and no size opens the file to measure it, and a
    # static path names no stored file.
    for pk, slug, path in Book.objects.exclude(cover="").filter(cover_width__isnull=True).values_list(
        "pk", "slug", "cover"
    ):
        carried = static_cover_bytes(path)
        if carried is None:
            Book.objects.filter(pk=pk).update(cover="")
            continue
        filename, content = carried
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
        name = field.storage.save(field.generate_filename(Book(slug=slug), filename), ContentFile(content))
        Book.objects.filter(pk=pk).update(cover=name, cover_width=width, cover_height=height)
        cover_variants_make(Book.objects.get(pk=pk).cover)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_book_cover_upload"),
    ]

    operations = [
        migrations.RunPython(carry_covers, migrations.RunPython.noop),
    ]
