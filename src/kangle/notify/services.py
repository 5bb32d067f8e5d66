"""Sending notices: an inbox entry now, SMS and e-mail through the outbox after the transaction commits.

Jobs that notify many people at once (the SLA sweep) use ``queue_notices``: inbox notices written as outbox
rows in the caller's transaction, so a notice exists exactly when the state change that caused it does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy

from kangle.accounts.models import User
from kangle.core.errors import fill, render
from kangle.core.rawrows import insert_rows
from kangle.core.timeutil import local, resolve_now
from kangle.notify.models import Channel, Notification, OutboxMessage

# A text message is the notice's title and body in one line.
SMS_TEXT = gettext_lazy("%(title)s. %(body)s")
DAY_TIME = gettext_lazy("%(month)s/%(day)s %(time)s")


class Phrase:
    """A translated message with its own parameters, given as a parameter of a notice: it is rendered in
    the language the notice is rendered in (a date written "06月01日 09:00" or "06/01 09:00")."""

    def __init__(self, message, **params):
        self.message, self.params = message, params

    def __str__(self) -> str:
        return render(self.message, self.params)


def day_time(moment: dt.datetime) -> Phrase:
    """Month, day and time of ``moment`` in local time, in the notice's language."""
    value = local(moment)
    return Phrase(DAY_TIME, month=f"{value:%m}", day=f"{value:%d}", time=f"{value:%H:%M}")


def notify_user(
    *,
    recipient,
    title,
    body="",
    link: str = "",
    sms: bool = False,
    now: dt.datetime | None = None,
    reference: str = "",
    params: dict | None = None,
) -> Notification:
    """Put a notice in ``recipient``'s inbox; with ``sms`` also text their phone (if they have one).

    ``title`` and ``body`` may be lazy translated messages with ``%(name)s`` placeholders filled from
    ``params``: they are written in the recipient's language."""
    moment = resolve_now(now)
    language = _language_of(recipient)
    title = render(title, params, language)[:200]
    body = render(body, params, language) if body else ""
    notice = Notification.objects.create(
        recipient=recipient, title=title, body=body, link=link, created_at=moment
    )
    if sms and recipient.phone:
        text = sms_text(title, body, language=language)
        queue_sms(phone=recipient.phone, text=text, reference=reference, now=moment)
    return notice


def sms_text(title, body="", *, params: dict | None = None, language: str | None = None) -> str:
    """A notice as one text message: title and body rendered in ``language`` and joined in one line (in the
    deployment's language when None, as for a phone with no account behind it)."""
    language = language or settings.LANGUAGE_CODE
    title = render(title, params, language)
    body = render(body, params, language) if body else ""
    return render(SMS_TEXT, {"title": title, "body": body}, language) if body else title


@dataclass(frozen=True)
class Notice:
    """One inbox notice for one person (by id, so callers need not load users).

    ``title`` and ``body`` may be lazy translated messages with ``%(name)s`` placeholders filled from
    ``params``; they are rendered when the notice is queued, in the recipient's language."""

    recipient_id: int
    title: object
    body: object = ""
    link: str = ""
    sms: bool = False
    reference: str = ""
    params: dict = field(default_factory=dict)


def queue_notices(notices: Iterable[Notice], *, now: dt.datetime | None = None) -> int:
    """Write inbox notices as outbox rows in the current transaction (one bulk insert); the outbox job
    turns each into a Notification, and a text when ``sms`` is set, exactly once.

    Notices are rendered a language at a time (switching the active translation per notice cost more than
    the rendering: an SLA sweep queues thousands per page)."""
    moment = resolve_now(now)
    notices = list(notices)
    languages = recipient_languages({notice.recipient_id for notice in notices})
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, notice in enumerate(notices):
        by_language[languages[notice.recipient_id]].append(index)
    rows: list[tuple | None] = [None] * len(notices)
    for language, indexes in by_language.items():
        with translation.override(language):
            # A page's notices share a few messages: each is translated once per language, not per notice
            # (the notices are alive for the whole call, so their ids are not reused).
            texts: dict[int, str] = {}
            for index in indexes:
                notice = notices[index]
                for message in (notice.title, notice.body):
                    if id(message) not in texts:
                        texts[id(message)] = str(message)
                rows[index] = (
                    notice.recipient_id,
                    fill(texts[id(notice.title)], notice.params)[:200],
                    fill(texts[id(notice.body)], notice.params) if notice.body else "",
                    notice.link[:300],
                    notice.sms,
                    notice.reference[:100],
                )
    return insert_rows(
        OutboxMessage,
        ("recipient_id", "subject", "body", "link", "also_sms", "reference"),
        rows,
        channel=Channel.INBOX,
        created_at=moment,
        next_attempt_at=moment,
    )


def recipient_languages(recipient_ids: Iterable[int]) -> dict[int, str]:
    """Each recipient's language, from one query; the deployment's for an id with no account."""
    ids = set(recipient_ids)
    known = dict(User.objects.filter(pk__in=ids).values_list("pk", "language")) if ids else {}
    return defaultdict(lambda: settings.LANGUAGE_CODE, known)


def _language_of(recipient) -> str:
    return getattr(recipient, "language", "") or settings.LANGUAGE_CODE


def queue_sms(*, phone: str, text: str, reference: str = "", now: dt.datetime | None = None) -> OutboxMessage:
    """Queue a text; it is delivered by the worker, so a slow gateway never holds up a request."""
    moment = resolve_now(now)
    return OutboxMessage.objects.create(
        channel=Channel.SMS,
        to=phone,
        body=text,
        reference=reference,
        created_at=moment,
        next_attempt_at=moment,
    )


def queue_email(
    *,
    to: str,
    subject: str,
    body: str,
    attachment_name: str = "",
    attachment: bytes | None = None,
    reference: str = "",
    now: dt.datetime | None = None,
) -> OutboxMessage:
    moment = resolve_now(now)
    return OutboxMessage.objects.create(
        channel=Channel.EMAIL,
        to=to,
        subject=subject,
        body=body,
        attachment_name=attachment_name,
        attachment=attachment,
        reference=reference,
        created_at=moment,
        next_attempt_at=moment,
    )


def notification_mark_read(
    *, actor, notification: Notification, now: dt.datetime | None = None
) -> Notification:
    if notification.recipient_id != actor.pk:
        raise Http404
    if notification.read_at is None:
        notification.read_at = resolve_now(now)
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def after_commit(function, *args, **kwargs) -> None:
    """Run a side effect once the surrounding transaction has committed (immediately outside one)."""
    transaction.on_commit(lambda: function(*args, **kwargs))
