"""A case notice is written in each recipient's language: the same dispatch reads English to a contractor
who chose English and Chinese to a colleague who did not."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.helpers import RESIDENT_PHONE, T0, advance, report
from kangle.accounts.models import User
from kangle.cases import services
from kangle.cases.models import Case
from kangle.core.roles import Role
from kangle.notify.models import Notification, OutboxMessage
from personas import make_user

pytestmark = pytest.mark.django_db


def test_a_dispatch_reads_english_to_an_english_contractor_and_chinese_to_a_chinese_one(
    personas, termite, contractor_org, photo
):
    User.objects.filter(pk=personas.contractor.pk).update(language="en")
    colleague = make_user("contractor_zh", Role.CONTRACTOR, personas.tree.street)
    contractor_org.users.add(colleague)
    case = report(personas, termite)
    case = advance(personas, case, photo, to="dispatched", contractor=contractor_org)

    notices = {n.recipient_id: n for n in Notification.objects.filter(link=f"/cases/c/{case.number}/")}
    english, chinese = notices[personas.contractor.pk], notices[colleague.pk]
    assert english.title == f"New job {case.number}: {termite.name}"
    assert chinese.title == f"新派单 {case.number}：{termite.name}"
    assert english.body == chinese.body == "屋内出现飞蚁"  # the resident's words are not translated


def test_a_resident_with_no_account_is_texted_in_the_deployments_language(personas, termite, photo):
    case = report(personas, termite)
    services.case_accept(actor=personas.secretary_a, case=case, now=T0 + dt.timedelta(minutes=1))
    text = OutboxMessage.objects.filter(channel="sms").latest("pk")
    assert text.to == RESIDENT_PHONE
    assert text.body == f"案件 {case.number} 已签收。工作站正在联系专业人员。"


def test_a_visit_booked_for_an_english_resident_is_dated_in_english(personas, termite, contractor_org, photo):
    User.objects.filter(pk=personas.resident.pk).update(language="en")
    case = report(personas, termite)
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    case.refresh_from_db()
    case = advance(personas, case, photo, to="booked", contractor=contractor_org)  # booked at 10:04
    notice = Notification.objects.filter(recipient=personas.resident).latest("pk")
    assert notice.title == f"Case {case.number}: a visit is booked for 06/10 12:04–14:04"
    assert notice.body == f"Precautions: {termite.precautions}"
