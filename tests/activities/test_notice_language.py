"""An activity notice is written in each recipient's language, dates included."""

from __future__ import annotations

import datetime as dt

import pytest

from activities.conftest import T0
from kangle.accounts.models import User
from kangle.activities import jobs, services
from kangle.notify.models import Notification

pytestmark = pytest.mark.django_db


def test_one_reminder_reads_english_to_an_english_member_and_chinese_to_a_chinese_one(kit, settings):
    settings.KANGLE_ACTIVITY_REMINDER_HOURS = 24
    activity = kit.activity(place="康乐小区活动室")
    _, chinese = kit.member_with_user("李四")
    User.objects.filter(pk=kit.p.member.pk).update(language="en")
    for user in (kit.p.member, chinese):
        services.signup_create(actor=user, activity=activity, now=T0 - dt.timedelta(days=2))
    assert jobs.send_activity_reminders(now=T0 - dt.timedelta(hours=24)) == 2

    reminders = {n.recipient_id: n for n in Notification.objects.filter(link__contains=f"/{activity.pk}/")}
    english, zh = reminders[kit.p.member.pk], reminders[chinese.pk]
    assert english.title == "Activity reminder: 爱心益剪"
    assert english.body == "12/05 09:00 at 康乐小区活动室; please be on time and scan the code to check in"
    assert zh.title == "活动提醒：爱心益剪"
    assert zh.body == "12月05日 09:00 在 康乐小区活动室，请准时参加并扫码签到"
