"""Errors a person can cause: one exception type carrying a Chinese and an English message.

Services raise ``UserError``; pages show ``str(error)`` (Chinese first, English after), the API returns
``{"code", "message", "message_en", "field"}``. Nothing is written when one is raised inside a service,
because services run in ``transaction.atomic``.
"""

from __future__ import annotations


class UserError(Exception):
    status = 400

    def __init__(self, code: str, zh: str, en: str, *, field: str | None = None, status: int | None = None):
        self.code = code
        self.zh = zh
        self.en = en
        self.field = field
        if status is not None:
            self.status = status
        super().__init__(f"{zh} / {en}")

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.zh, "message_en": self.en}
        if self.field:
            body["field"] = self.field
        return body


class NotAllowed(UserError):
    """The actor may see the object but not do this to it (a wrong role inside their own scope)."""

    status = 403

    def __init__(self, zh: str = "没有权限执行此操作", en: str = "You are not allowed to do this"):
        super().__init__("forbidden", zh, en)


def message_in_language(error: UserError) -> str:
    """The message in the reader's language only (a Chinese page shows no English, and the reverse)."""
    from django.utils.translation import get_language

    return error.en if (get_language() or "").startswith("en") else error.zh


def form_error(form, error: UserError, *, message: str | None = None) -> None:
    """Show a service's refusal on a page's form: at its field when the form has it (a row of a list field,
    ``milestones.1``, points at ``milestones``), otherwise above the form."""
    field = (error.field or "").split(".")[0]
    form.add_error(field if field in form.fields else None, str(error) if message is None else message)
