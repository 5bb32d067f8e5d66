"""Rotating check-in codes. A token is ``<window>.<signature>``: the window is the current multiple of
``KANGLE_QR_WINDOW_SECONDS`` since the epoch, the signature an HMAC-SHA256 (keyed with the site's secret and
the activity's own secret) over the activity id, the action and the window. A token is accepted in its
own window and the next one, so a photo of the screen sent home stops working within about a minute."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy

from kangle.core.errors import UserError
from kangle.core.timeutil import resolve_now

ACTIONS = ("in", "out")


def _window(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // settings.KANGLE_QR_WINDOW_SECONDS


def _signature(activity, action: str, window: int) -> str:
    key = (settings.SECRET_KEY + ":" + activity.qr_secret).encode()
    message = f"activity:{activity.pk}:{action}:{window}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def make_token(activity, action: str, *, now: dt.datetime | None = None) -> str:
    window = _window(resolve_now(now))
    return f"{window}.{_signature(activity, action, window)}"


def token_expires_at(token: str) -> dt.datetime:
    window = int(token.split(".", 1)[0])
    return dt.datetime.fromtimestamp((window + 2) * settings.KANGLE_QR_WINDOW_SECONDS, tz=dt.UTC)


def check_token(activity, action: str, token: str, *, now: dt.datetime | None = None) -> None:
    """Raise ``UserError`` for a forged, malformed or expired token; return quietly for a good one."""
    window_text, _, signature = (token or "").strip().partition(".")
    if not window_text.isdigit() or not signature:
        raise UserError(
            "qr_invalid",
            gettext_lazy("Invalid code: scan the code on the screen at the venue"),
            field="token",
        )
    window = int(window_text)
    if not hmac.compare_digest(signature, _signature(activity, action, window)):
        raise UserError(
            "qr_invalid",
            gettext_lazy("Invalid code: scan the code on the screen at the venue"),
            field="token",
        )
    current = _window(resolve_now(now))
    if window > current:
        raise UserError(
            "qr_invalid",
            gettext_lazy("Invalid code: scan the code on the screen at the venue"),
            field="token",
        )
    if current - window > 1:
        raise UserError(
            "qr_expired",
            gettext_lazy("The code has expired: scan the code on the screen again"),
            field="token",
        )


def scan_url(activity, action: str, token: str) -> str:
    return settings.KANGLE_BASE_URL + reverse("activities:scan", args=[activity.pk, action]) + f"?t={token}"


def qr_svg(url: str, *, scale: int = 8) -> str:
    code = segno.make(url, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
