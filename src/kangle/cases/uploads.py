"""Photo uploads: checked with Pillow (a real image of an allowed type, not too large), stored under
MEDIA_ROOT with a random name, served only through the permission-checked view."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

from kangle.core.errors import UserError

ALLOWED = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PHOTOS = 6


def max_bytes() -> int:
    return settings.KANGLE_CASE_PHOTO_MAX_BYTES


@dataclass(frozen=True)
class ValidatedImage:
    content: bytes
    content_type: str
    extension: str

    @property
    def size(self) -> int:
        return len(self.content)

    def as_file(self) -> ContentFile:
        return ContentFile(self.content, name=f"{uuid.uuid4().hex}.{self.extension}")


def validate_image(upload, *, field: str = "photo") -> ValidatedImage:
    """Read an uploaded file and accept it only if it is a JPEG, PNG or WebP image within the size limit."""
    name = getattr(upload, "name", "") or "?"
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(name, limit, field)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _too_large(name, limit, field)
    if not content:
        raise UserError(
            "empty_upload", f"上传的文件是空的：{name}", f"The uploaded file is empty: {name}", field=field
        )
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind not in ALLOWED:
        raise UserError(
            "not_an_image",
            f"只能上传 JPG、PNG 或 WebP 图片：{name}",
            f"Only JPEG, PNG or WebP images may be uploaded: {name}",
            field=field,
        )
    content_type, extension = ALLOWED[kind]
    return ValidatedImage(content=content, content_type=content_type, extension=extension)


def validate_images(uploads, *, field: str = "photos") -> list[ValidatedImage]:
    uploads = [upload for upload in uploads if upload]
    if len(uploads) > MAX_PHOTOS:
        raise UserError(
            "too_many_photos", f"最多上传 {MAX_PHOTOS} 张照片", f"At most {MAX_PHOTOS} photos", field=field
        )
    return [validate_image(upload, field=field) for upload in uploads]


def _too_large(name: str, limit: int, field: str) -> UserError:
    megabytes = limit // (1024 * 1024)
    return UserError(
        "upload_too_large",
        f"图片不能超过 {megabytes} MB：{name}",
        f"The image is larger than {megabytes} MB: {name}",
        field=field,
    )
