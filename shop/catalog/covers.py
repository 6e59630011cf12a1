"""Book covers: what an upload must be, what is kept of it, and the sized copies pages show.

`cover_upload_clean()` accepts a JPEG, PNG or WebP that Pillow reads whole, of
at most COVER_MAX_BYTES and COVER_MAX_PIXELS, at least COVER_MIN_WIDTH pixels
wide. Anything else (another format, a renamed PDF, a truncated file, a
decompression bomb) is a ValidationError naming what is wrong, never another
exception. What it returns is the picture alone: turned upright by its EXIF
orientation, re-encoded in its own format without EXIF, GPS, XMP or comments.

The pages show WebP copies COVER_WIDTHS wide (django-imagekit specs on
Book). They are made once, when a book is saved with a new cover: imagekit's
Optimistic strategy makes them on that save and never checks for them when a
page asks for their URL, so a page costs no storage or database call per
cover. `cover_variants_make()` makes them for a cover stored without the model's
save (the data migration); `manage.py generateimages` remakes every book's after
a change to the specs.
"""

import io
import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from imagekit import ImageSpec
from imagekit.cachefiles import ImageCacheFile
from imagekit.processors import ResizeToFit
from PIL import Image, ImageOps

COVER_MAX_BYTES = 10 * 1024 * 1024
COVER_MIN_WIDTH = 300
# Pixels decoded at most (a 10 MB file can claim far more): 8,000 × 5,000.
COVER_MAX_PIXELS = 40_000_000
COVER_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
COVER_WIDTHS = (240, 480)
# Kept when re-encoding: how to show the colours, not who took the picture where.
KEPT_INFO = ("icc_profile", "transparency", "dpi")


class CoverVariant(ImageSpec):
    format = "WEBP"
    options = {"quality": 82, "method": 4}
    cachefile_strategy = "imagekit.cachefiles.strategies.Optimistic"


class CoverSmall(CoverVariant):
    processors = [ResizeToFit(width=COVER_WIDTHS[0], upscale=False)]


class CoverLarge(CoverVariant):
    processors = [ResizeToFit(width=COVER_WIDTHS[1], upscale=False)]


COVER_SPECS = (CoverSmall, CoverLarge)


@dataclass(frozen=True)
class CoverImage:
    """What an <img> of a cover needs: the copies' URLs with their widths, and its proportions."""

    src: str
    srcset: str
    width: int
    height: int


def cover_image(*, small_url: str, large_url: str, width: int | None, height: int | None) -> CoverImage:
    """The <img> values for a cover `width` × `height` whose copies are at these URLs."""
    width, height = width or 2, height or 3  # a cover stored without its size: a book's shape
    small_width = min(COVER_WIDTHS[0], width)
    large_width = min(COVER_WIDTHS[1], width)
    return CoverImage(
        src=small_url,
        srcset=f"{small_url} {small_width}w, {large_url} {large_width}w",
        width=small_width,
        height=round(height * small_width / width),
    )


def cover_upload_clean(upload) -> ContentFile:
    """The uploaded cover's picture without its metadata, or ValidationError saying what is wrong."""
    if upload.size is not None and upload.size > COVER_MAX_BYTES:
        raise ValidationError(
            "This file is %(size)s MB; a cover may be at most 10 MB.",
            code="cover_too_large",
            params={"size": f"{math.ceil(upload.size * 10 / 1024 / 1024) / 10:.1f}"},  # 10.1, never 10.0
        )
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            _check(image)
            clean = _without_metadata(image)
    except ValidationError:
        raise
    except Exception as exc:  # Pillow reports a broken file with many exception types
        raise ValidationError(
            "This file is not a picture we can read: upload a JPEG, PNG or WebP.", code="cover_unreadable"
        ) from exc
    return clean


def _check(image: Image.Image) -> None:
    if image.format not in COVER_FORMATS:
        raise ValidationError(
            "This is a %(format)s picture: upload a JPEG, PNG or WebP.",
            code="cover_format",
            params={"format": image.format or "unknown"},
        )
    width, height = image.size
    if width * height > COVER_MAX_PIXELS:
        raise ValidationError(
            "This picture is %(width)s × %(height)s pixels; a cover may have at most 40 million.",
            code="cover_too_many_pixels",
            params={"width": width, "height": height},
        )
    if width < COVER_MIN_WIDTH:
        raise ValidationError(
            "This picture is %(width)s pixels wide; a cover needs at least %(minimum)s.",
            code="cover_too_narrow",
            params={"width": width, "minimum": COVER_MIN_WIDTH},
        )


def _without_metadata(image: Image.Image) -> ContentFile:
    image.load()  # decodes every pixel: a truncated file fails here, not when a page is made
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        upright = upright.convert("RGB")  # CMYK, 16-bit and the like: shown the same, smaller
    # A new image holds only pixels (and a palette); the info worth keeping is handed back below.
    picture = Image.new(upright.mode, upright.size)
    picture.paste(upright)
    if upright.mode == "P":
        picture.putpalette(upright.getpalette())
    kept = {key: image.info[key] for key in KEPT_INFO if key in image.info}
    output = io.BytesIO()
    extension = COVER_FORMATS[image.format]
    if image.format == "JPEG":
        picture.save(output, "JPEG", quality=90, optimize=True, **kept)
    elif image.format == "PNG":
        picture.save(output, "PNG", optimize=True, **kept)
    else:
        picture.save(output, "WEBP", quality=90, **{k: v for k, v in kept.items() if k == "icc_profile"})
    return ContentFile(output.getvalue(), name=f"cover.{extension}")


def cover_variants_make(source) -> None:
    """Make (or remake) the sized copies of a stored cover (`source`: its FieldFile)."""
    for spec in COVER_SPECS:
        ImageCacheFile(spec(source=source)).generate(force=True)
