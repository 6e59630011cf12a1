import json
import uuid
from dataclasses import dataclass

import pytest

from config.media import media_storage
from shop.catalog.tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server, s3_server_start


@pytest.fixture(scope="session")
def s3_server():
    from conftest import TEST_OUTPUT

    TEST_OUTPUT.mkdir(exist_ok=True)
    server = s3_server_start(log_path=TEST_OUTPUT / "moto-s3.log")
    yield server
    server.stop()


@dataclass
class Bucket:
    server: S3Server
    name: str
    options: dict

    def object_keys(self) -> list[str]:
        listing = self.server.client().list_objects_v2(Bucket=self.name)
        return [item["Key"] for item in listing.get("Contents", [])]


def public_read_policy(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadCovers",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                # Covers and their copies; import files (private/) stay private.
                "Resource": [f"arn:aws:s3:::{bucket}/covers/*", f"arn:aws:s3:::{bucket}/CACHE/*"],
            }
        ],
    }


@pytest.fixture
def s3_media(s3_server, settings):
    """Media in a new bucket of the local S3 server, configured as MEDIA_STORAGE=s3 configures it."""
    name = f"covers-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.create_bucket(Bucket=name)
    # Covers are public: anyone may read them, as docs/operations.md tells a shop to set its bucket.
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
    s3 = {
        "bucket_name": name,
        "region_name": REGION,
        "endpoint_url": s3_server.url,
        "custom_domain": "",
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
    }
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(kind="s3", s3=s3)}
    return Bucket(server=s3_server, name=name, options=s3)
