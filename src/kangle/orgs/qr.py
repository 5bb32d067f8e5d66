"""QR codes for registration points (segno), pointing at the public registration-point page."""

from __future__ import annotations

import io

import segno
from django.conf import settings

from kangle.orgs.models import RegistrationPoint


def registration_url(point: RegistrationPoint) -> str:
    return settings.KANGLE_BASE_URL + point.get_absolute_url()


def registration_qr_svg(point: RegistrationPoint, *, scale: int = 6) -> bytes:
    # Error correction "M" survives a smudged print; the URL stays short so the code stays coarse.
    code = segno.make(registration_url(point), error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=scale, border=2, xmldecl=False, title=point.name)
    return buffer.getvalue()
