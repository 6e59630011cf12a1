"""Pictures made with Pillow for the cover tests: real JPEG/PNG/WebP bytes, with metadata on request."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
ARTIST = 0x013B


def picture_bytes(
    *, width: int = 600, height: int = 900, fmt: str = "JPEG", exif: bool = False, colour=(15, 76, 92)
) -> bytes:
    """A `width` × `height` picture; with `exif`, an artist, GPS position and a 90° orientation."""
    image = Image.new("RGB", (width, height), colour)
    image.paste((242, 177, 52), (0, 0, width // 2, height // 3))  # a corner to tell the way up by
    output = io.BytesIO()
    options = {}
    if exif:
        data = Image.Exif()
        data[ARTIST] = "Someone"
        data[ORIENTATION] = 6  # shown turned 90° clockwise
        data.get_ifd(GPS_IFD).update({1: "N", 2: (37.0, 46.0, 30.0), 3: "W", 4: (122.0, 25.0, 10.0)})
        options["exif"] = data.tobytes()
    image.save(output, fmt, **options)
    return output.getvalue()


def upload(content: bytes, name: str = "cover.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)
