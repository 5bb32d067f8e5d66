"""Notices are written in the recipient's language: the one kept on their account, set by the language switch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import User
from kangle.core.roles import Role
from kangle.notify.jobs import deliver_inbox_page
from kangle.notify.models import Notification, OutboxMessage
from kangle.notify.services import Notice, notify_user, queue_notices

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC)
OPENED = _("Your %(role)s account is open")
BODY = _("%(unit)s: %(role)s")


def test_a_new_account_reads_the_deployments_language(personas):
    assert User.objects.get(pk=personas.secretary_a.pk).language == "zh-hans"


def test_one_batch_is_written_in_each_recipients_language(personas, django_assert_num_queries):
    User.objects.filter(pk=personas.secretary_a.pk).update(language="en")
    english, chinese = personas.secretary_a, personas.area_admin
    notices = [
        Notice(
            person.pk,
            title=OPENED,
            body=BODY,
            params={"role": Role.CONTRACTOR.label, "unit": "康乐居民区"},
            sms=True,
        )
        for person in (english, chinese)
    ]
    # One query for the languages of every recipient, one bulk insert.
    with django_assert_num_queries(2):
        assert queue_notices(notices, now=T0) == 2
    rows = {row.recipient_id: row for row in OutboxMessage.objects.all()}
    assert rows[english.pk].subject == "Your Contractor account is open"
    assert rows[english.pk].body == "康乐居民区: Contractor"
    assert rows[chinese.pk].subject == "您的专业组织账号已开通"
    assert rows[chinese.pk].body == "康乐居民区：专业组织"

    deliver_inbox_page(now=T0)
    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    assert titles == {english.pk: "Your Contractor account is open", chinese.pk: "您的专业组织账号已开通"}
    # secretary_a has a phone: the text joins title and body in English punctuation.
    text = OutboxMessage.objects.get(channel="sms")
    assert text.to == "13900000003" and text.body == "Your Contractor account is open. 康乐居民区: Contractor"


def test_notify_user_writes_in_the_recipients_language(personas):
    User.objects.filter(pk=personas.secretary_a.pk).update(language="en")
    english = User.objects.get(pk=personas.secretary_a.pk)
    params = {"role": Role.MEMBER.label, "unit": "康乐居民区"}
    notify_user(recipient=english, title=OPENED, body=BODY, params=params, sms=True, now=T0)
    notify_user(recipient=personas.area_admin, title=OPENED, body=BODY, params=params, now=T0)
    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    assert titles == {
        english.pk: "Your Member account is open",
        personas.area_admin.pk: "您的在职党员账号已开通",
    }
    assert OutboxMessage.objects.get(channel="sms").body == "Your Member account is open. 康乐居民区: Member"


def test_the_language_switch_keeps_a_logged_in_persons_choice(client, personas):
    client.force_login(personas.secretary_a)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert User.objects.get(pk=personas.secretary_a.pk).language == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # not a language: nothing changes
    assert User.objects.get(pk=personas.secretary_a.pk).language == "en"
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert User.objects.get(pk=personas.secretary_a.pk).language == "zh-hans"


def test_the_language_switch_works_before_logging_in(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
