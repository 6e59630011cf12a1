"""Where uploaded files (book covers and their sized copies) are stored: STORAGES["default"].

MEDIA_STORAGE=local (the default) keeps them under MEDIA_ROOT, served at
MEDIA_URL (by Django's URLconf in DEBUG, by the web server in production:
docs/operations.md). MEDIA_STORAGE=s3 keeps them in an S3-compatible bucket
through django-storages, for several hosts serving the shop: AWS_STORAGE_BUCKET_NAME,
AWS_S3_REGION_NAME, AWS_S3_ENDPOINT_URL (another provider, or a local server),
AWS_S3_CUSTOM_DOMAIN (a CDN in front of the bucket) and the key pair
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; empty = boto3's own chain, e.g. an
instance role). Objects are public-read URLs without signatures: covers are
public, and an unsigned URL is the same on every render, so pages cache.

`media_origin()` is the origin the pages' <img> URLs point at, for the
Content-Security-Policy's img-src (None for local media: the shop's own).
`import_storage()` keeps staff's uploaded import files between their preview
and confirmation: a folder outside MEDIA_ROOT, or the bucket's private/imports/
prefix (the public-read policy covers covers/ and CACHE/ only).
"""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

MEDIA_STORAGES = ("local", "s3")
# Seconds to reach the bucket and for each answer, and attempts per call: an
# upload to a stalled bucket fails in the admin instead of holding a worker.
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 20
S3_ATTEMPTS = 3


def media_storage(*, kind: str, s3: dict[str, str]) -> dict:
    """STORAGES["default"] for MEDIA_STORAGE=`kind`; `s3` holds the AWS_* values."""
    if kind not in MEDIA_STORAGES:
        raise ImproperlyConfigured(f"MEDIA_STORAGE must be one of {', '.join(MEDIA_STORAGES)}, not {kind!r}.")
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if not s3["bucket_name"]:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    from botocore.config import Config  # only with S3: several MB a process otherwise

    options = {
        **{name: value for name, value in s3.items() if value},
        "querystring_auth": False,
        # Every upload gets a name of its own: a replaced cover never shows its old sized copies.
        "file_overwrite": False,
        # Names never change content (see above), so browsers and CDNs may keep them.
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        "client_config": Config(
            connect_timeout=S3_CONNECT_TIMEOUT,
            read_timeout=S3_READ_TIMEOUT,
            retries={"max_attempts": S3_ATTEMPTS, "mode": "standard"},
        ),
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def import_storage(*, kind: str, s3: dict[str, str], root: Path) -> dict:
    """STORAGES["import_export"]: where an import file waits for its confirmation, never public."""
    if kind == "s3":
        storage = media_storage(kind=kind, s3=s3)
        return {**storage, "OPTIONS": {**storage["OPTIONS"], "location": "private/imports"}}
    return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}}


def media_origin(*, kind: str, s3: dict[str, str]) -> str | None:
    """Where the browser fetches stored files from, when that is not the shop itself."""
    if kind != "s3":
        return None
    if s3.get("custom_domain"):
        return f"https://{s3['custom_domain']}"
    if s3.get("endpoint_url"):  # django-storages addresses other providers path-style: one origin
        parts = urlsplit(s3["endpoint_url"])
        return f"{parts.scheme}://{parts.netloc}"
    return f"https://{s3['bucket_name']}.s3.amazonaws.com"
