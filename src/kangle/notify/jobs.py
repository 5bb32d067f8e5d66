"""Outbox delivery, run by `kangle worker` every few seconds.

A row is claimed by a compare-and-set (``status=pending AND attempts=n`` → ``attempts=n+1``), so two
workers never send the same message; failures back off exponentially and give up after MAX_ATTEMPTS.

Inbox notices are delivered a page at a time in one transaction: the rows are locked (SKIP LOCKED, so a
second worker takes the next page), turned into Notification rows (and SMS outbox rows), and marked sent —
all or nothing, so each notice reaches its inbox exactly once even when a worker is killed.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F

from kangle.core.errors import render
from kangle.core.timeutil import now as current_time
from kangle.notify.models import Channel, Notification, OutboxMessage, OutboxStatus
from kangle.notify.services import SMS_TEXT
from kangle.notify.sms import get_backend

logger = logging.getLogger("kangle.notify")

MAX_ATTEMPTS = 6
BATCH = 100
INBOX_PAGE = 1000
INBOX_PAGES_PER_RUN = 50


def deliver_outbox(*, batch: int = BATCH, now: dt.datetime | None = None, **_) -> int:
    moment = now or current_time()
    delivered = 0
    for _page in range(INBOX_PAGES_PER_RUN):
        done = deliver_inbox_page(now=moment)
        delivered += done
        if done < INBOX_PAGE:
            break
    return delivered + _send_external(batch=batch, moment=moment)


def _sms_text(row: dict, language: str) -> str:
    if not row["body"]:
        return row["subject"]
    return render(SMS_TEXT, {"title": row["subject"], "body": row["body"]}, language)


def deliver_inbox_page(*, now: dt.datetime, size: int = INBOX_PAGE) -> int:
    """Turn one page of pending inbox notices into Notification rows, in one transaction."""
    with transaction.atomic():
        page = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(channel=Channel.INBOX, status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values("id", "recipient_id", "subject", "body", "link", "also_sms", "reference")[:size]
        )
        if not page:
            return 0
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=row["recipient_id"],
                    title=row["subject"],
                    body=row["body"],
                    link=row["link"],
                    created_at=now,
                )
                for row in page
                if row["recipient_id"]
            ],
            batch_size=1000,
        )
        texted = [row for row in page if row["also_sms"] and row["recipient_id"]]
        if texted:
            # Phone and language of every recipient in one query; the text joins title and body in it.
            reached = {
                pk: (phone, language)
                for pk, phone, language in get_user_model()
                .objects.filter(pk__in={row["recipient_id"] for row in texted})
                .exclude(phone="")
                .values_list("pk", "phone", "language")
            }
            OutboxMessage.objects.bulk_create(
                [
                    OutboxMessage(
                        channel=Channel.SMS,
                        to=reached[row["recipient_id"]][0],
                        body=_sms_text(row, reached[row["recipient_id"]][1]),
                        reference=row["reference"],
                        created_at=now,
                        next_attempt_at=now,
                    )
                    for row in texted
                    if row["recipient_id"] in reached
                ],
                batch_size=1000,
            )
        OutboxMessage.objects.filter(pk__in=[row["id"] for row in page]).update(
            status=OutboxStatus.SENT, sent_at=now, attempts=F("attempts") + 1
        )
    return len(page)


def _send_external(*, batch: int, moment: dt.datetime) -> int:
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=moment)
        .exclude(channel=Channel.INBOX)
        .order_by("next_attempt_at", "id")
        .values_list("id", "attempts")[:batch]
    )
    sent = 0
    sms = None
    for message_id, attempts in due:
        claimed = OutboxMessage.objects.filter(
            id=message_id, status=OutboxStatus.PENDING, attempts=attempts
        ).update(attempts=attempts + 1, next_attempt_at=moment + dt.timedelta(minutes=2**attempts))
        if not claimed:
            continue  # another worker took it
        message = OutboxMessage.objects.get(id=message_id)
        try:
            if message.channel == Channel.SMS:
                sms = sms or get_backend()
                sms.send(message.to, message.body)
            else:
                email = EmailMessage(subject=message.subject, body=message.body, to=[message.to])
                if message.attachment:
                    email.attach(message.attachment_name or "attachment", bytes(message.attachment))
                email.send()
        except Exception as exc:  # noqa: BLE001 - any failure of a channel is recorded and retried
            logger.warning("outbox %s failed: %s", message_id, exc)
            final = attempts + 1 >= MAX_ATTEMPTS
            OutboxMessage.objects.filter(id=message_id).update(
                last_error=str(exc)[:1000], status=OutboxStatus.FAILED if final else OutboxStatus.PENDING
            )
            continue
        OutboxMessage.objects.filter(id=message_id).update(status=OutboxStatus.SENT, sent_at=current_time())
        sent += 1
    return sent
