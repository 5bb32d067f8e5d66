"""Log in (or sign up) with a six-digit code texted to a mobile number.

The answer to a code request is the same whether or not the number belongs to an account, so the page
never tells a stranger who uses the service. A code is valid for five minutes, for one use and five tries;
requests are limited per number and per network address.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kangle.core import audit
from kangle.core.crypto import blind_index
from kangle.core.errors import UserError
from kangle.core.text import is_mobile, normalise_phone
from kangle.core.throttle import hit
from kangle.core.timeutil import resolve_now
from kangle.notify.models import LoginCode
from kangle.notify.services import queue_sms

CODE_VALID_FOR = dt.timedelta(minutes=5)
MAX_TRIES_PER_CODE = 5
REQUESTS_PER_PHONE_PER_HOUR = 5
REQUESTS_PER_ADDRESS_PER_HOUR = 20
HOUR = dt.timedelta(hours=1)


def checked_phone(phone: str) -> str:
    """The number in its one spelling (full-width digits, spaces, +86 folded), or a message at the field."""
    normalised = normalise_phone(phone)
    if not is_mobile(normalised):
        raise UserError(
            "invalid_phone", gettext_lazy("Enter an 11-digit mobile number, e.g. 13812345678"), field="phone"
        )
    return normalised


def _hash_code(phone: str, code: str) -> str:
    return blind_index(f"login-code:{phone}:{code}")


def code_request(*, phone: str, address: str, now: dt.datetime | None = None) -> None:
    """Text a new code to ``phone``. Known and unknown numbers get the same treatment and the same answer."""
    moment = resolve_now(now)
    phone = checked_phone(phone)
    if not hit(
        "login-code-address",
        address or "unknown",
        limit=REQUESTS_PER_ADDRESS_PER_HOUR,
        window=HOUR,
        now=moment,
    ):
        raise UserError(
            "too_many_codes",
            gettext_lazy("Too many code requests; try again in an hour"),
            field="phone",
            status=429,
        )
    if not hit("login-code-phone", phone, limit=REQUESTS_PER_PHONE_PER_HOUR, window=HOUR, now=moment):
        raise UserError(
            "too_many_codes",
            gettext_lazy("Too many codes for this number; try again in an hour"),
            field="phone",
            status=429,
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        LoginCode.objects.filter(phone_hash=blind_index(phone), used_at__isnull=True).update(used_at=moment)
        LoginCode.objects.create(
            phone_hash=blind_index(phone),
            code_hash=_hash_code(phone, code),
            created_at=moment,
            expires_at=moment + CODE_VALID_FOR,
        )
        queue_sms(
            phone=phone,
            text=_("Your Kangle login code is %(code)s. It is valid for 5 minutes; do not share it.")
            % {"code": code},
            reference="login-code",
            now=moment,
        )


def code_verify(*, phone: str, code: str, now: dt.datetime | None = None) -> str:
    """The verified number, or a message at the code field (wrong and expired codes answer alike)."""
    moment = resolve_now(now)
    phone = checked_phone(phone)
    code = normalise_phone(code)  # full-width digits and spaces typed into the code are folded too
    wrong = UserError(
        "wrong_code", gettext_lazy("The code is wrong or has expired; request a new one"), field="code"
    )
    with transaction.atomic():
        row = (
            LoginCode.objects.select_for_update()
            .filter(phone_hash=blind_index(phone), used_at__isnull=True, expires_at__gt=moment)
            .order_by("-created_at")
            .first()
        )
        matches = (
            row is not None
            and row.attempts < MAX_TRIES_PER_CODE
            and hmac.compare_digest(row.code_hash, _hash_code(phone, code))
        )
        if row is not None and not matches and row.attempts < MAX_TRIES_PER_CODE:
            # The failed try is committed (the error is raised after the block), so guessing stays capped.
            LoginCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
        elif matches:
            LoginCode.objects.filter(pk=row.pk).update(used_at=moment)
            audit.record(
                actor=None,
                verb="login_code.verified",
                object_type="notify.logincode",
                object_id=row.pk,
                now=moment,
            )
    if not matches:
        raise wrong
    return phone
