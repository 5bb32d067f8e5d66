"""Errors a person can cause: one exception type carrying a code and one translatable message.

Services raise ``UserError(code, gettext_lazy("English message with %(name)s"), name=value)``; the Chinese
text lives in the app's catalogue like every other screen word, so a term reads the same on pages and in
messages. Parameters may themselves be lazy strings (a field's label) and are rendered in the same language
as the message. Pages show ``str(error)`` (Chinese first, English after); the API returns
``{"code", "message", "message_en", "field"}``. Nothing is written when one is raised inside a service,
because services run in ``transaction.atomic``.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

CHINESE = "zh-hans"
ENGLISH = "en"


def render(message, params: dict | None = None, language: str | None = None) -> str:
    """``message % params`` in ``language`` (the active one when None), lazy parameters included."""
    with translation.override(language) if language else _nothing():
        return fill(str(message), params)


def fill(text: str, params: dict | None) -> str:
    """``text % params`` with lazy parameters rendered in the active language (``text`` already is)."""
    return text % {key: _plain(value) for key, value in params.items()} if params else text


def _plain(value):
    # Lazy strings (labels) render in the active language; numbers keep their %d / %s formatting.
    return value if isinstance(value, int | float) else str(value)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class UserError(Exception):
    status = 400

    def __init__(
        self,
        code: str,
        message,
        *,
        field: str | None = None,
        status: int | None = None,
        **params,
    ):
        self.code = code
        self.message = message
        self.params = params
        self.field = field
        if status is not None:
            self.status = status
        super().__init__(code)

    def text(self, language: str | None = None) -> str:
        """The message in ``language`` (the requester's, when None)."""
        return render(self.message, self.params, language)

    @property
    def zh(self) -> str:
        return self.text(CHINESE)

    @property
    def en(self) -> str:
        return self.text(ENGLISH)

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.zh, "message_en": self.en}
        if self.field:
            body["field"] = self.field
        return body


class NotAllowed(UserError):
    """The actor may see the object but not do this to it (a wrong role inside their own scope)."""

    status = 403

    def __init__(self, message=None, **params):
        super().__init__("forbidden", message or _("You are not allowed to do this"), **params)


def message_in_language(error: UserError) -> str:
    """The message in the reader's language only (a Chinese page shows no English, and the reverse)."""
    return error.text()


def form_error(form, error: UserError, *, message: str | None = None) -> None:
    """Show a service's refusal on a page's form: at its field when the form has it (a row of a list field,
    ``milestones.1``, points at ``milestones``), otherwise above the form."""
    field = (error.field or "").split(".")[0]
    form.add_error(field if field in form.fields else None, str(error) if message is None else message)
