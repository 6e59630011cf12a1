"""Covers in S3-compatible object storage (MEDIA_STORAGE=s3, django-storages), against moto's
server started by the tests, over real HTTP: the upload and its copies land in the bucket, and
the pages point the browser at the bucket."""

import io
import urllib.request
from urllib.parse import urlsplit

import pytest
from PIL import Image

from config.media import media_origin
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.catalog.tests.images import picture_bytes, upload
from shop.catalog.tests.test_cover_upload import SRCSET, admin_post

pytestmark = pytest.mark.django_db


def test_an_uploaded_cover_and_its_copies_are_in_the_bucket_and_the_pages_point_there(
    s3_media, admin_client, client
):
    book = BookFactory(title="Stripe Press in the cloud", slug="cloud")
    response = admin_post(admin_client, book, cover=upload(picture_bytes(width=1200, height=800, exif=True)))
    assert response.status_code == 302

    book = Book.objects.get(pk=book.pk)
    keys = s3_media.object_keys()
    copies = [key for key in keys if key.endswith(".webp")]
    assert book.cover.name in keys
    assert len(copies) == 2 and all(key.startswith("CACHE/images/covers/cloud-") for key in copies)
    stored = s3_media.server.client().get_object(Bucket=s3_media.name, Key=book.cover.name)
    assert dict(Image.open(io.BytesIO(stored["Body"].read())).getexif()) == {}

    bucket_url = f"{s3_media.server.url}/{s3_media.name}/"
    for path in ["/", book.get_absolute_url()]:
        src, small, large = SRCSET.search(client.get(path).content.decode()).groups()
        assert src.startswith(bucket_url) and small == src and large.startswith(bucket_url), path
        assert {small.removeprefix(bucket_url), large.removeprefix(bucket_url)} == set(copies)
        # The origin config/media.py adds to the Content-Security-Policy's img-src for this bucket.
        parts = urlsplit(src)
        assert f"{parts.scheme}://{parts.netloc}" == media_origin(kind="s3", s3=s3_media.options)
        with urllib.request.urlopen(large, timeout=5) as served:  # as a browser fetches it
            assert served.headers["Content-Type"] == "image/webp"
            assert Image.open(io.BytesIO(served.read())).size == (480, 720)
