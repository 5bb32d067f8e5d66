"""The one upload gate: every uploaded file (case, service-record, reading and finding photos) passes here.

- the type is sniffed from the bytes with Pillow (JPEG, PNG, WebP or GIF), never taken from the name or
  the browser's content type;
- the size is capped by ``KANGLE_UPLOAD_MAX_BYTES``;
- the file is stored through Django's ``default_storage`` (local folder or an S3-compatible bucket) under a
  random name with the extension of the sniffed type, so nothing a person names survives into a path;
- files are served only by the scoped view in ``kangle.core.files``, never from a public media folder.

Bad input raises ``UserError`` with a message in Chinese and English naming the field.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from kangle.core.errors import UserError

# Pillow's format name → (content type, the one extension a stored file of that type gets)
ALLOWED = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
CONTENT_TYPES = {extension: content_type for content_type, extension in ALLOWED.values()}
MAX_PHOTOS = 6


def max_bytes() -> int:
    return int(settings.KANGLE_UPLOAD_MAX_BYTES)


@dataclass(frozen=True)
class ValidatedImage:
    """An upload that passed the gate: its bytes and the type sniffed from them."""

    content: bytes
    content_type: str
    extension: str

    @property
    def size(self) -> int:
        return len(self.content)

    def as_file(self) -> ContentFile:
        """For a model's FileField: a random name with the safe extension."""
        return ContentFile(self.content, name=random_name(self.extension))


def random_name(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


def validate_image(upload, *, field: str = "photo") -> ValidatedImage:
    """Accept an uploaded file only if its bytes are a JPEG, PNG, WebP or GIF image within the size cap."""
    label = _display_name(upload)
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(label, limit, field)
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _too_large(label, limit, field)
    if not content:
        raise UserError(
            "empty_upload",
            _("The file uploaded as “%(field_value)s” is empty: %(label)s"),
            field=field,
            field_value=field,
            label=label,
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
            _("Only JPEG, PNG, WebP or GIF images may be uploaded as “%(field_value)s”: %(label)s"),
            field=field,
            field_value=field,
            label=label,
        )
    content_type, extension = ALLOWED[kind]
    return ValidatedImage(content=content, content_type=content_type, extension=extension)


def validate_images(uploads, *, field: str = "photos") -> list[ValidatedImage]:
    uploads = [upload for upload in uploads or [] if upload]
    if len(uploads) > MAX_PHOTOS:
        raise UserError(
            "too_many_photos",
            _("At most %(MAX_PHOTOS)s photos may be uploaded as “%(field_value)s”"),
            field=field,
            MAX_PHOTOS=MAX_PHOTOS,
            field_value=field,
        )
    return [validate_image(upload, field=field) for upload in uploads]


def accept_image(upload, *, field: str, folder: str = "uploads") -> str:
    """Check an upload and store it through ``default_storage``; returns the stored name."""
    image = validate_image(upload, field=field)
    return default_storage.save(f"{folder}/{random_name(image.extension)}", ContentFile(image.content))


def content_type_for(name: str) -> str | None:
    """The content type of a file this gate stored (by its safe extension); None for anything else."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(extension)


def _display_name(upload) -> str:
    # Shown back to the person who chose the file; the template escapes it. Capped so a long name
    # cannot flood the message.
    return (getattr(upload, "name", "") or "?").rsplit("/", 1)[-1][:80]


def _too_large(label: str, limit: int, field: str) -> UserError:
    megabytes = round(limit / (1024 * 1024), 1)
    return UserError(
        "upload_too_large",
        _("The file uploaded as “%(field_name)s” is larger than %(megabytes)s MB: %(name)s"),
        field=field,
        field_name=field,
        megabytes=f"{megabytes:g}",
        name=label,
    )
