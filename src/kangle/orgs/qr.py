"""QR codes for registration points (segno), pointing at the public registration-point page."""

from __future__ import annotations

import io

import segno

from kangle.core.public_url import base_url
from kangle.orgs.models import RegistrationPoint


def registration_url(point: RegistrationPoint, request=None) -> str:
    return base_url(request) + point.get_absolute_url()


def registration_qr_svg(point: RegistrationPoint, *, request=None, scale: int = 6) -> bytes:
    # Error correction "M" survives a smudged print; the URL stays short so the code stays coarse.
    code = segno.make(registration_url(point, request), error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=scale, border=2, xmldecl=False, title=point.name)
    return buffer.getvalue()
