"""The public address people reach the site at, for QR codes, posters and texts.

``KANGLE_BASE_URL`` when it is set. When it is not, a page that prints an address (a poster, a QR code)
takes it from the request the staff member made — the address they reached the server at — rather than
printing the development default ``http://127.0.0.1:8000`` that no phone can open. Texts sent without a
request fall back to the setting; ``kangle check`` warns when that is a loopback address.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0"}  # noqa: S104 (names, not a bind)


def base_url(request=None) -> str:
    if request is not None and not settings.KANGLE_BASE_URL_SET:
        return request.build_absolute_uri("/").rstrip("/")
    return settings.KANGLE_BASE_URL


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


# A deployment check: on a laptop the loopback default is right; `check --deploy` (and `kangle up --host
# 0.0.0.0`, which serves other machines) is where a loopback address is a mistake.
@checks.register(checks.Tags.compatibility, deploy=True)
def base_url_check(app_configs=None, **kwargs):
    if not is_loopback(settings.KANGLE_BASE_URL):
        return []
    return [
        checks.Warning(
            f"KANGLE_BASE_URL 是本机地址（{settings.KANGLE_BASE_URL}），手机扫码和短信链接无法打开；"
            "请设为对外访问地址 / KANGLE_BASE_URL is a loopback address "
            f"({settings.KANGLE_BASE_URL}): QR codes and links in texts will not open on a phone; set it to "
            "the public address",
            id="kangle.W001",
        )
    ]
