"""What a cover upload must be, and what is kept of it (shop/catalog/covers.py)."""

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from shop.catalog.covers import COVER_MAX_BYTES, cover_image, cover_upload_clean
from shop.catalog.tests.images import ARTIST, GPS_IFD, picture_bytes, upload


def opened(content) -> Image.Image:
    return Image.open(io.BytesIO(content.read() if hasattr(content, "read") else content))


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_a_jpeg_png_or_webp_is_kept_in_its_format(fmt, extension):
    clean = cover_upload_clean(upload(picture_bytes(fmt=fmt), name="anything.bin"))
    assert clean.name == f"cover.{extension}"
    image = opened(clean)
    assert (image.format, image.size) == (fmt, (600, 900))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_and_gps_are_stripped_and_the_picture_turned_upright(fmt):
    original = opened(picture_bytes(width=900, height=600, fmt=fmt, exif=True))
    assert original.getexif()[ARTIST] == "Someone" and original.getexif().get_ifd(GPS_IFD)

    image = opened(cover_upload_clean(upload(picture_bytes(width=900, height=600, fmt=fmt, exif=True))))

    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "xmp" not in image.info
    assert image.size == (600, 900)  # orientation 6 applied: the picture stands as it was shown
    assert image.getpixel((600 - 10, 10))[:3] == pytest.approx((242, 177, 52), abs=12)


def gif() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (600, 900)).save(output, "GIF")
    return output.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (picture_bytes(width=299, height=450), "299 pixels wide; a cover needs at least 300"),
        (gif(), "This is a GIF picture: upload a JPEG, PNG or WebP."),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", "not a picture we can read"),
        (picture_bytes()[:2000], "not a picture we can read"),  # cut short
        (b"", "not a picture we can read"),
    ],
    ids=["narrow", "gif", "pdf", "truncated", "empty"],
)
def test_anything_else_is_refused_with_a_reason(content, message):
    with pytest.raises(ValidationError) as refused:
        cover_upload_clean(upload(content))
    assert message in refused.value.messages[0]


def test_a_file_over_10_mb_is_refused_before_it_is_read():
    too_big = upload(b"\xff" * (COVER_MAX_BYTES + 1))
    with pytest.raises(ValidationError, match="This file is 10.1 MB; a cover may be at most 10 MB."):
        cover_upload_clean(too_big)


def test_a_decompression_bomb_is_refused_without_decoding_it():
    output = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(output, "PNG")  # 50 million pixels in a few kilobytes
    assert len(output.getvalue()) < 100_000
    with pytest.raises(ValidationError, match="10000 × 5000 pixels; a cover may have at most 40 million"):
        cover_upload_clean(upload(output.getvalue(), name="bomb.png"))


def test_the_img_values_follow_the_covers_proportions():
    image = cover_image(small_url="/s.webp", large_url="/l.webp", width=800, height=1200)
    assert (image.src, image.width, image.height) == ("/s.webp", 240, 360)
    assert image.srcset == "/s.webp 240w, /l.webp 480w"


def test_a_cover_narrower_than_a_copy_is_not_claimed_wider():
    image = cover_image(small_url="/s.webp", large_url="/l.webp", width=300, height=450)
    assert image.srcset == "/s.webp 240w, /l.webp 300w"


@pytest.mark.parametrize(("mode", "fmt"), [("CMYK", "JPEG"), ("P", "PNG"), ("RGBA", "PNG"), ("L", "JPEG")])
def test_other_colour_modes_are_kept_showable(mode, fmt):
    output = io.BytesIO()
    original = Image.new("RGB", (400, 600), (15, 76, 92)).convert(mode)
    original.save(output, fmt)
    image = opened(cover_upload_clean(upload(output.getvalue())))
    assert image.format == fmt and image.size == (400, 600)
    assert image.mode == ("RGB" if mode == "CMYK" else mode)
    shown = original.convert("RGB").getpixel((5, 5))
    assert image.convert("RGB").getpixel((5, 5)) == pytest.approx(shown, abs=6)
