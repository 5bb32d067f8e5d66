"""Service-record photos go through the upload gate and are served only through the scoped file view."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kangle.activities.models import ServiceRecord

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def report(client, user, name: str, content: bytes):
    """Report as ``user`` at T0 (the login belongs to the same clock as the request)."""
    with time_machine.travel(T0, tick=False):
        client.force_login(user)
        return client.post(
            "/api/v1/activities/records/self-report",
            {
                "title": "助老陪诊",
                "aspect": "elderly",
                "started_at": (T0 - dt.timedelta(hours=5)).isoformat(),
                "minutes": 60,
                "photo": SimpleUploadedFile(name, content),
            },
        )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.html", b"<script>alert(document.cookie)</script>"),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("x.php", b"<?php phpinfo(); ?>"),
    ],
)
def test_a_non_image_is_refused_and_nothing_is_stored(kit, client, name, content):
    answer = report(client, kit.p.member, name, content)
    assert answer.status_code == 400 and answer.json()["field"] == "photo"
    assert not ServiceRecord.objects.exists()


def test_thirty_megabytes_of_noise_are_refused(kit, client):
    answer = report(client, kit.p.member, "big.jpg", os.urandom(30 * 1024 * 1024))
    assert answer.status_code == 400 and answer.json()["code"] == "upload_too_large"


def test_a_photo_is_stored_with_a_safe_name_and_served_only_in_scope(kit, client):
    answer = report(client, kit.p.member, "holiday.php.jpg", jpeg())
    assert answer.status_code == 201, answer.content
    record = ServiceRecord.objects.get()
    assert record.photo.name.startswith("service-records/") and record.photo.name.endswith(".jpg")
    assert "php" not in record.photo.name and "holiday" not in record.photo.name
    url = f"/files/record-photo/{record.pk}/"
    client.force_login(kit.p.member)
    own = client.get(url)
    assert own.status_code == 200 and own["Content-Type"] == "image/jpeg"
    assert own["X-Content-Type-Options"] == "nosniff"
    assert own["Content-Disposition"].startswith("inline;")
    assert (
        "sandbox" in own["Content-Security-Policy"] and "default-src 'none'" in own["Content-Security-Policy"]
    )
    client.force_login(kit.p.secretary_a)
    assert client.get(url).status_code == 200
    assert f'href="{url}"' in client.get("/activities/records/").content.decode()
    for outsider in (kit.p.secretary_b, kit.p.resident, kit.p.contractor):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get("/media/" + record.photo.name).status_code == 404


def test_a_file_stored_before_the_gate_is_offered_only_as_a_download(kit, client):
    report(client, kit.p.member, "a.jpg", jpeg())
    record = ServiceRecord.objects.get()
    client.force_login(kit.p.member)
    legacy = default_storage.save("service-records/old.html", ContentFile(b"<script>alert(1)</script>"))
    ServiceRecord.objects.filter(pk=record.pk).update(photo=legacy)
    served = client.get(f"/files/record-photo/{record.pk}/")
    assert served.status_code == 200
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment;")
