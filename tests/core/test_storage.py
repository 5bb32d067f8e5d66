"""Uploaded files through Django's storage API: the local disk by default, an S3-compatible object store
when KANGLE_STORAGE_URL is set — proven against a local S3-compatible server (moto) started here."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from kangle import config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    pytest.importorskip("moto.server")
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments, bound to 127.0.0.1
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(endpoint, timeout=1)  # noqa: S310 - a local test server
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the local S3-compatible server did not start")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_local_disk_is_the_default(monkeypatch):
    monkeypatch.delenv("KANGLE_STORAGE_URL", raising=False)
    assert config.storage_url("KANGLE_STORAGE_URL") == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }


@pytest.mark.parametrize("value", ["http://bucket", "s3://", "s3://bucket?colour=red"])
def test_a_malformed_storage_url_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("KANGLE_STORAGE_URL", value)
    with pytest.raises(config.ConfigError) as error:
        config.storage_url("KANGLE_STORAGE_URL")
    assert "KANGLE_STORAGE_URL" in str(error.value)


def test_a_file_saved_through_default_storage_round_trips_through_s3(s3_endpoint, settings, monkeypatch):
    import boto3

    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    ).create_bucket(Bucket="kangle-files")
    monkeypatch.setenv(
        "KANGLE_STORAGE_URL", f"s3://k:s@kangle-files?endpoint={s3_endpoint}&region=us-east-1&prefix=media"
    )
    settings.STORAGES = {**settings.STORAGES, "default": config.storage_url("KANGLE_STORAGE_URL")}
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40

    name = default_storage.save("cases/2026/06/photo.png", ContentFile(content))
    assert type(default_storage._wrapped).__name__ == "S3Storage"
    with default_storage.open(name) as stored:
        assert stored.read() == content
    assert default_storage.size(name) == len(content)
    # It is really in the bucket (under the prefix), not on this machine's disk.
    listed = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    ).list_objects_v2(Bucket="kangle-files")
    assert [item["Key"] for item in listed["Contents"]] == [f"media/{name}"]
    assert not (settings.MEDIA_ROOT / name).exists()
    # A second file of the same name gets a name of its own (nothing is overwritten).
    other = default_storage.save("cases/2026/06/photo.png", ContentFile(b"other"))
    assert other != name
    default_storage.delete(name)
    assert not default_storage.exists(name)
