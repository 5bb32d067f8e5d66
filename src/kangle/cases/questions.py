"""The category's questions (Open311 service attributes): answers checked against their type and choices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from kangle.cases.models import CaseCategory, QuestionType
from kangle.core.errors import UserError
from kangle.core.text import normalise_text

MAX_ANSWER = 1000


def _wrong(code: str, message, **params) -> UserError:
    """A refusal naming the attribute as the Open311 client sent it (``attribute[code]``)."""
    return UserError("invalid_attribute", message, field=code, attribute=code, **params)


def clean_answers(category: CaseCategory, raw: Mapping[str, str | list[str]] | None) -> dict:
    """The answers as stored on the case, or a ``UserError`` naming the first bad attribute.

    Unknown codes are refused (a caller sending a question we do not ask has the wrong definition)."""
    raw = dict(raw or {})
    questions = {question.code: question for question in category.questions.all()}
    for code in raw:
        if code not in questions:
            raise _wrong(code, _("attribute[%(attribute)s]: unknown attribute code for this service"))
    answers: dict = {}
    for code, question in questions.items():
        value = raw.get(code)
        values = value if isinstance(value, list) else ([] if value is None else [value])
        values = [normalise_text(str(item)) for item in values if normalise_text(str(item))]
        if not values:
            if question.required:
                raise _wrong(
                    code,
                    _("attribute[%(attribute)s]: '%(question)s' is required"),
                    question=question.question,
                )
            continue
        if question.datatype != QuestionType.MULTI and len(values) > 1:
            raise _wrong(code, _("attribute[%(attribute)s]: takes a single value"))
        answers[code] = _typed(question, values)
    return answers


def _typed(question, values: list[str]):
    code, kind, first = question.code, question.datatype, values[0]
    if kind in (QuestionType.STRING, QuestionType.TEXT):
        if len(first) > MAX_ANSWER:
            raise _wrong(code, _("attribute[%(attribute)s]: longer than %(max)d characters"), max=MAX_ANSWER)
        return first
    if kind == QuestionType.NUMBER:
        try:
            number = Decimal(first)
        except (InvalidOperation, ValueError):
            number = None
        if number is None or not number.is_finite():
            raise _wrong(code, _("attribute[%(attribute)s]: must be a number"))
        return str(number)
    if kind == QuestionType.DATETIME:
        try:
            moment = dt.datetime.fromisoformat(first.replace("Z", "+00:00"))
        except ValueError:
            raise _wrong(code, _("attribute[%(attribute)s]: must be a W3C date-time")) from None
        return moment.isoformat()
    keys = question.keys
    for value in values:
        if value not in keys:
            raise _wrong(
                code, _("attribute[%(attribute)s]: '%(value)s' is not one of the choices"), value=value
            )
    return values if kind == QuestionType.MULTI else first
