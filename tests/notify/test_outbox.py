"""Notices: the inbox entry at once, SMS/e-mail through the outbox, delivered exactly once by the worker."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core import mail
from django.db import connection, connections

from kangle.notify import jobs
from kangle.notify.jobs import MAX_ATTEMPTS, deliver_outbox
from kangle.notify.models import Notification, OutboxMessage, OutboxStatus
from kangle.notify.services import notify_user, queue_email, queue_sms
from kangle.notify.sms import MemoryBackend

T0 = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC)


def raw_to(message_id) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to FROM notify_outboxmessage WHERE id = %s".replace("to", '"to"', 1), [message_id]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_notify_user_with_sms_puts_a_notice_in_the_inbox_and_queues_an_encrypted_text(personas, _sms_outbox):
    notice = notify_user(
        recipient=personas.secretary_a,
        title="新的报到",
        body="张三已报到",
        link="/orgs/units/KJ-C01/",
        sms=True,
        now=T0,
    )
    assert Notification.objects.get(pk=notice.pk).recipient_id == personas.secretary_a.pk
    message = OutboxMessage.objects.get()
    assert message.channel == "sms"
    assert message.to == "13900000003"
    assert message.body == "新的报到。张三已报到"
    assert message.status == OutboxStatus.PENDING and message.next_attempt_at == T0
    stored = raw_to(message.pk)
    assert "13900000003" not in stored and stored.startswith("enc1:")
    assert _sms_outbox == []  # nothing is sent inside the request


@pytest.mark.django_db
def test_no_text_without_sms_or_without_a_phone(personas):
    notify_user(recipient=personas.secretary_a, title="仅站内", sms=False)
    notify_user(recipient=personas.area_admin, title="无手机号", sms=True)  # area_admin has no phone
    assert Notification.objects.count() == 2
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_deliver_outbox_sends_once(personas, _sms_outbox):
    notify_user(recipient=personas.secretary_a, title="提醒", sms=True, now=T0)
    assert deliver_outbox(now=T0) == 1
    assert _sms_outbox == [("13900000003", "提醒")]
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.SENT and message.attempts == 1 and message.sent_at is not None
    assert deliver_outbox(now=T0 + dt.timedelta(days=1)) == 0
    assert len(_sms_outbox) == 1


@pytest.mark.django_db
def test_a_message_is_not_sent_before_it_is_due(personas, _sms_outbox):
    queue_sms(phone="13900000003", text="稍后", now=T0)
    assert deliver_outbox(now=T0 - dt.timedelta(seconds=1)) == 0
    assert _sms_outbox == []


@pytest.mark.django_db
def test_email_goes_out_with_its_attachment(personas):
    queue_email(
        to="a@example.org",
        subject="月报",
        body="见附件",
        attachment_name="月报.xlsx",
        attachment=b"PK\x03\x04",
        now=T0,
    )
    assert deliver_outbox(now=T0) == 1
    [sent] = mail.outbox
    assert sent.to == ["a@example.org"] and sent.subject == "月报"
    assert sent.attachments[0][0] == "月报.xlsx"
    assert bytes(sent.attachments[0][1]) == b"PK\x03\x04"


@pytest.mark.django_db
def test_a_second_worker_in_the_middle_never_double_sends(personas, monkeypatch, _sms_outbox):
    """Worker A has read the due rows; worker B runs completely while A sends its first one."""
    for i in range(5):
        queue_sms(phone=f"1390000100{i}", text=f"第{i}条", now=T0)
    original = MemoryBackend.send
    nested = []
    b_started = []

    def send(self, phone, text):
        if not b_started:
            b_started.append(True)
            nested.append(deliver_outbox(now=T0))  # worker B
        original(self, phone, text)

    monkeypatch.setattr(MemoryBackend, "send", send)
    sent_by_a = deliver_outbox(now=T0)
    assert nested == [4]  # B found the other four; A's first one was already claimed
    assert sent_by_a == 1
    assert sorted(text for _, text in _sms_outbox) == [f"第{i}条" for i in range(5)]
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}


@pytest.mark.django_db
def test_failures_back_off_and_give_up_after_max_attempts(personas, monkeypatch, _sms_outbox):
    def broken(self, phone, text):
        raise OSError("gateway unreachable")

    monkeypatch.setattr(MemoryBackend, "send", broken)
    message = queue_sms(phone="13900000003", text="重试", now=T0)
    moment = T0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliver_outbox(now=moment) == 0
        message.refresh_from_db()
        assert message.attempts == attempt
        assert message.last_error == "gateway unreachable"
        delay = dt.timedelta(minutes=2 ** (attempt - 1))
        assert message.next_attempt_at == moment + delay
        if attempt < MAX_ATTEMPTS:
            assert message.status == OutboxStatus.PENDING
            # a minute before it is due nothing happens
            assert (
                deliver_outbox(now=moment + delay - dt.timedelta(minutes=1) if attempt > 1 else moment) == 0
            )
            message.refresh_from_db()
            assert message.attempts == attempt
        moment += delay
    assert message.status == OutboxStatus.FAILED
    # Given up: even a working gateway does not get it any more.
    monkeypatch.undo()
    assert deliver_outbox(now=moment + dt.timedelta(days=30)) == 0
    assert _sms_outbox == []
    message.refresh_from_db()
    assert message.attempts == MAX_ATTEMPTS


@pytest.mark.django_db
def test_a_failure_recovers_on_the_next_attempt(personas, monkeypatch, _sms_outbox):
    failures = iter([OSError("timeout")])
    original = MemoryBackend.send

    def flaky(self, phone, text):
        error = next(failures, None)
        if error:
            raise error
        original(self, phone, text)

    monkeypatch.setattr(MemoryBackend, "send", flaky)
    queue_sms(phone="13900000003", text="再试一次", now=T0)
    assert deliver_outbox(now=T0) == 0
    assert deliver_outbox(now=T0 + dt.timedelta(minutes=1)) == 1
    assert _sms_outbox == [("13900000003", "再试一次")]
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_on_postgresql_send_each_message_once(monkeypatch, _sms_outbox):
    for i in range(60):
        queue_sms(phone=f"139{i:08d}", text=f"并发{i}")
    lock = threading.Lock()

    def slow_send(self, phone, text):
        time.sleep(0.005)  # a gateway round trip: gives the other worker time to interleave
        with lock:
            MemoryBackend.outbox.append((phone, text))

    monkeypatch.setattr(MemoryBackend, "send", slow_send)
    start = threading.Barrier(4)
    counts, errors = [], []

    def worker():
        try:
            start.wait()
            counts.append(deliver_outbox())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(counts) == 60
    texts = [text for _, text in _sms_outbox]
    assert len(texts) == 60 and len(set(texts)) == 60
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}
    assert len([c for c in counts if c]) >= 2, counts  # the work really was shared


def test_max_attempts_is_bounded():
    assert 1 < jobs.MAX_ATTEMPTS <= 10
