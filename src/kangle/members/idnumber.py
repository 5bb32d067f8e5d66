"""Resident identity numbers (公民身份号码), GB 11643-1999: 17 digits and a check character."""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _

from kangle.core.text import normalise_text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PATTERN = re.compile(r"^\d{17}[\dX]$")


def normalise_id_number(value: str | None) -> str:
    """Full-width digits folded, spaces removed, a lower-case x made upper-case."""
    return re.sub(r"\s+", "", normalise_text(value)).upper()


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def id_number_problem(number: str):
    """None when valid, else a translatable message saying what is wrong."""
    if not PATTERN.match(number):
        return _("The ID number must be 18 characters (17 digits and a check character)")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return _("The date of birth inside the ID number is not a real date")
    if check_character(number[:17]) != number[17]:
        return _("The ID number's check digit is wrong")
    return None


def birth_year_of(number: str) -> int:
    return int(number[6:10])


def gender_of(number: str) -> str:
    return "m" if int(number[16]) % 2 else "f"
