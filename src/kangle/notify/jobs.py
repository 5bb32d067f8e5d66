"""Outbox delivery, run by `kangle worker` every few seconds.

A row is claimed by a compare-and-set (``status=pending AND attempts=n`` → ``attempts=n+1``), so two
workers never send the same message; failures back off exponentially and give up after MAX_ATTEMPTS.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import EmailMessage

from kangle.core.timeutil import now as current_time
from kangle.notify.models import Channel, OutboxMessage, OutboxStatus
from kangle.notify.sms import get_backend

logger = logging.getLogger("kangle.notify")

MAX_ATTEMPTS = 6
BATCH = 100


def deliver_outbox(*, batch: int = BATCH, now: dt.datetime | None = None, **_) -> int:
    moment = now or current_time()
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=moment)
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
