"""Normalising what people type: full-width digits, stray spaces, phone numbers."""

from __future__ import annotations

import re
import unicodedata

MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def normalise_text(value: str | None) -> str:
    """NFKC folds full-width digits and letters (１３８ → 138); collapse runs of spaces; strip."""
    if value is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", " ", folded).strip()


def normalise_phone(value: str | None) -> str:
    """Digits only, without the +86 / 0086 country prefix; validation is separate (``is_mobile``)."""
    digits = re.sub(r"[\s\-()（）]", "", normalise_text(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def is_mobile(phone: str) -> bool:
    return bool(MOBILE_PATTERN.match(phone))
