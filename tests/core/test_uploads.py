"""The one upload gate and the one scoped file view."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kangle.core.errors import UserError
from kangle.core.uploads import accept_image, content_type_for, validate_image


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), (10, 120, 30)).save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.html", b"<html><script>alert(1)</script></html>"),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("x.php", b"<?php system($_GET['c']); ?>"),
        ("x.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
        ("x.png", b""),
    ],
)
def test_anything_but_a_real_image_is_refused_naming_the_field(name, content):
    with pytest.raises(UserError) as error:
        validate_image(SimpleUploadedFile(name, content), field="photo")
    assert error.value.field == "photo"
    assert "photo" in error.value.zh and "photo" in error.value.en


def test_the_size_cap_comes_from_settings(settings):
    assert settings.KANGLE_UPLOAD_MAX_BYTES == 8 * 1024 * 1024
    with pytest.raises(UserError) as error:
        validate_image(SimpleUploadedFile("big.jpg", os.urandom(30 * 1024 * 1024)), field="photos")
    assert error.value.code == "upload_too_large" and error.value.field == "photos"
    settings.KANGLE_UPLOAD_MAX_BYTES = 100
    with pytest.raises(UserError):
        validate_image(SimpleUploadedFile("a.png", image_bytes("PNG") + b"\0" * 200), field="photo")


@pytest.mark.parametrize(
    ("kind", "content_type", "extension"),
    [
        ("JPEG", "image/jpeg", "jpg"),
        ("PNG", "image/png", "png"),
        ("WEBP", "image/webp", "webp"),
        ("GIF", "image/gif", "gif"),
    ],
)
def test_the_type_comes_from_the_bytes_not_the_name(kind, content_type, extension):
    image = validate_image(SimpleUploadedFile("evil.html", image_bytes(kind), content_type="text/html"))
    assert (image.content_type, image.extension) == (content_type, extension)
    stored = image.as_file().name
    assert stored.endswith(f".{extension}") and "evil" not in stored


def test_accept_image_stores_through_default_storage_under_a_random_name(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    name = accept_image(SimpleUploadedFile("../../x.php.png", image_bytes("PNG")), field="photo")
    assert name.startswith("uploads/") and name.endswith(".png") and "php" not in name
    assert default_storage.exists(name) and content_type_for(name) == "image/png"
    assert content_type_for("service-records/abc.html") is None
