"""Where uploads are stored, as the environment configures it (config/media.py), each case in a
fresh Python like tests/test_settings.py."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.media import media_origin, media_storage
from tests.test_settings import PRODUCTION, manage, settings_values

S3 = {
    **PRODUCTION,
    "MEDIA_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "press-covers",
    "AWS_S3_REGION_NAME": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "a-secret-access-key-that-is-long-enough",
}


def test_uploads_are_local_files_by_default(tmp_path):
    values = settings_values(tmp_path, ["STORAGES", "MEDIA_ROOT", "MEDIA_URL", "MEDIA_ORIGIN"], **PRODUCTION)
    assert values["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert values["MEDIA_ROOT"].endswith("/media") and values["MEDIA_URL"] == "/media/"
    assert values["MEDIA_ORIGIN"] is None


def test_s3_storage_from_the_environment_with_timeouts_and_public_unsigned_urls(tmp_path):
    values = settings_values(tmp_path, ["STORAGES", "CONTENT_SECURITY_POLICY"], **S3)
    storage = values["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "press-covers" and options["region_name"] == "eu-west-1"
    assert options["access_key"] == "AKIAEXAMPLEEXAMPLE"
    assert options["querystring_auth"] is False and options["file_overwrite"] is False
    assert "endpoint_url" not in options  # empty values are left to django-storages' defaults
    img_src = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]
    assert img_src == ["'self'", "data:", "https://press-covers.s3.amazonaws.com"]


def test_import_files_wait_where_nobody_fetches_them(tmp_path):
    local = settings_values(tmp_path, ["STORAGES", "MEDIA_ROOT"], **PRODUCTION)
    s3 = settings_values(tmp_path, ["STORAGES"], **S3)
    assert local["STORAGES"]["import_export"]["OPTIONS"]["location"].endswith("/imports")
    assert not local["STORAGES"]["import_export"]["OPTIONS"]["location"].startswith(local["MEDIA_ROOT"])
    assert s3["STORAGES"]["import_export"]["OPTIONS"]["location"] == "private/imports"
    assert s3["STORAGES"]["import_export"]["OPTIONS"]["bucket_name"] == "press-covers"


def test_deploy_check_is_clean_with_s3_media(tmp_path):
    result = manage(tmp_path, "check", "--deploy", **S3)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE must be one of local, s3, not 'ftp'."),
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME."),
    ],
)
def test_a_wrong_media_storage_refuses_to_start(tmp_path, env, message):
    result = manage(tmp_path, "check", **{**PRODUCTION, **env})
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("s3", "origin"),
    [
        ({"bucket_name": "b", "custom_domain": "covers.example.com"}, "https://covers.example.com"),
        (
            {"bucket_name": "b", "endpoint_url": "https://nyc3.digitaloceanspaces.com/"},
            "https://nyc3.digitaloceanspaces.com",
        ),
        ({"bucket_name": "b", "endpoint_url": "http://127.0.0.1:9000"}, "http://127.0.0.1:9000"),
        ({"bucket_name": "b"}, "https://b.s3.amazonaws.com"),
    ],
)
def test_the_media_origin_is_where_the_browser_fetches_covers(s3, origin):
    assert media_origin(kind="s3", s3=s3) == origin
    assert media_origin(kind="local", s3=s3) is None


def test_a_local_storage_ignores_the_s3_values():
    assert media_storage(kind="local", s3={"bucket_name": "b"})["BACKEND"].endswith("FileSystemStorage")
    with pytest.raises(ImproperlyConfigured):
        media_storage(kind="s3", s3={"bucket_name": ""})
