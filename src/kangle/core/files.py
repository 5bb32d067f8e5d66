"""The one way stored files reach a browser: ``/files/<kind>/<id>/``.

Each app registers, per kind of file, a resolver that turns (request, id) into the stored file through
the app's ``access_<entity>`` helper — so a file is shown exactly to those who may see its owner, and
anyone else gets a 404. There is no public media folder. The answer streams from ``default_storage``
(local folder or S3-compatible bucket) with ``Content-Disposition``, ``nosniff`` and a content security
policy that forbids everything but showing the image, so a stored file can never run as a page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from kangle.core.uploads import content_type_for

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True)
class StoredFile:
    name: str  # the name in default_storage
    content_type: str = ""


Resolver = Callable[[object, int], StoredFile]
_RESOLVERS: dict[str, Resolver] = {}


def register(kind: str, resolver: Resolver) -> None:
    """Called from an app's ``ready()``: ``resolver(request, pk)`` returns the file or raises Http404."""
    _RESOLVERS[kind] = resolver


def kinds() -> list[str]:
    return sorted(_RESOLVERS)


def serve(request, kind: str, pk: int):
    resolver = _RESOLVERS.get(kind)
    if resolver is None or request.method not in ("GET", "HEAD"):
        raise Http404
    stored = resolver(request, pk)
    if not stored.name:
        raise Http404
    # Only types the upload gate produces are shown inline; anything else (a file stored before the gate
    # existed) is offered as an opaque download.
    content_type = content_type_for(stored.name)
    try:
        handle = default_storage.open(stored.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    extension = stored.name.rsplit(".", 1)[-1].lower() if "." in stored.name else "bin"
    filename = f"{kind}-{pk}.{extension if content_type else 'bin'}"
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    disposition = "inline" if content_type else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, max-age=3600"
    return response
