"""SMS channel backends, chosen by KANGLE_SMS_BACKEND. A backend has one method: ``send(phone, text)``."""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from kangle.core.masking import mask_phone
from kangle.core.timeutil import now

logger = logging.getLogger("kangle.sms")


class SmsError(Exception):
    pass


class ConsoleBackend:
    """Development: print the message (the number masked) on the worker's console."""

    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS to {mask_phone(phone)}] 【{settings.KANGLE_SMS_SIGN}】{text}\n")
        sys.stdout.flush()


class FileBackend:
    """One JSON line per message in $KANGLE_HOME/sms/YYYY-MM-DD.jsonl — for a pilot without a gateway.

    The log is a record that a message went out, not a copy of the address book: the number is masked,
    and the file is readable by kangle's account only."""

    def send(self, phone: str, text: str) -> None:
        directory = settings.KANGLE_SMS_DIR
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        moment = now()
        line = json.dumps(
            {"at": moment.isoformat(), "phone": mask_phone(phone), "text": text}, ensure_ascii=False
        )
        path = directory / f"{moment:%Y-%m-%d}.jsonl"
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class MemoryBackend:
    """Tests: messages collect in ``MemoryBackend.outbox``."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        MemoryBackend.outbox.append((phone, text))


class HttpGatewayBackend:
    """POST JSON to an SMS gateway (KANGLE_SMS_URL, bearer KANGLE_SMS_TOKEN); any 2xx is success."""

    def send(self, phone: str, text: str) -> None:
        payload = json.dumps({"phone": phone, "text": text, "sign": settings.KANGLE_SMS_SIGN}).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's configured gateway
            settings.KANGLE_SMS_URL,
            data=payload,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.KANGLE_SMS_TOKEN}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except OSError as exc:
            raise SmsError(str(exc)) from exc


def get_backend():
    return import_string(settings.KANGLE_SMS_BACKEND)()
