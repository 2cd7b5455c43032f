"""Media files on local disk by default, or in an S3-compatible bucket (django-storages) with MEDIA_STORAGE=s3."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings as django_settings
from django.core.files.storage import FileSystemStorage, default_storage

from media_assets.tests.factories import MaterialFactory

ROOT = Path(__file__).resolve().parents[2]
S3_ENV = {
    "MEDIA_STORAGE": "s3",
    "MEDIA_S3_BUCKET": "wx-media",
    "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "MEDIA_S3_REGION": "us-east-1",
    "MEDIA_S3_ACCESS_KEY_ID": "test-key-id",
    "MEDIA_S3_SECRET_ACCESS_KEY": "test-secret",
}


def test_local_disk_is_the_default():
    assert isinstance(default_storage, FileSystemStorage)
    assert django_settings.MEDIA_STORAGE == "local"


def configured(env: dict) -> subprocess.CompletedProcess:
    code = (
        'from django.core.files.storage import storages; s = storages["default"];'
        "print(type(s).__name__, s.bucket_name, s.location, s.default_acl);"
        "print(s.url('materials/a.png'))"
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_s3_storage_is_configured_from_the_environment():
    result = configured(S3_ENV)
    assert result.returncode == 0, result.stderr[-2000:]
    described, url = result.stdout.strip().splitlines()[-2:]
    assert described == "S3Storage wx-media media private"
    assert url.startswith("http://127.0.0.1:9000/wx-media/media/materials/a.png?") and "Signature=" in url


def test_an_unknown_storage_is_refused_at_start():
    result = configured({"MEDIA_STORAGE": "ftp"})
    assert result.returncode != 0 and "MEDIA_STORAGE must be local or s3" in result.stderr


def test_with_s3_the_admin_redirects_to_a_signed_url(admin_client, account, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "wx-media",
                "endpoint_url": "http://127.0.0.1:9000",
                "region_name": "us-east-1",
                "access_key": "test-key-id",
                "secret_key": "test-secret",
                "querystring_auth": True,
            },
        },
    }
    material = MaterialFactory(account=account, file="materials/2026/11/cat.png")
    response = admin_client.get(f"/en/admin/media_assets/material/{material.pk}/file/")
    assert response.status_code == 302
    assert response["Location"].startswith("http://127.0.0.1:9000/wx-media/materials/2026/11/cat.png?")
