"""The set-based SLA sweep: what each page writes (events, audit rows, escalations, notices), in which
language, following which policy version, and with a number of statements that does not grow with the page."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.helpers import T0, report
from kangle.cases import jobs, reference
from kangle.cases.models import Case, CaseEvent, CaseMilestone, Escalation, EventKind
from kangle.core.models import AuditEvent
from kangle.core.timeutil import local
from kangle.notify.models import OutboxMessage

H = dt.timedelta(hours=1)
pytestmark = pytest.mark.django_db


def _clock(case, code):
    return CaseMilestone.objects.select_related("milestone").get(case=case, milestone__code=code)


def _events(case, kind):
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("id"))


def test_each_page_writes_events_audit_rows_escalations_and_notices_from_the_changed_rows(personas, termite):
    # A reporting time with microseconds: the events' deadline text is the stored time's ISO form.
    case = report(personas, termite, now=T0 + dt.timedelta(microseconds=123456))
    Case.objects.filter(pk=case.pk).update(title="100% 蛀空的门框")
    case.refresh_from_db()
    on_site = _clock(case, "on_site")
    assert on_site.deadline.microsecond == 123456

    warn = on_site.warn_at
    assert jobs.sla_sweep(now=warn, worker_id="w1").warned == 1
    (warned,) = _events(case, EventKind.WARNED)
    assert warned.data == {"milestone": "on_site", "deadline": on_site.deadline.isoformat(), "worker": "w1"}
    assert (warned.note, warned.public, warned.actor_id, warned.at) == (
        on_site.milestone.name,
        False,
        None,
        warn,
    )
    warnings = OutboxMessage.objects.filter(reference=f"cases.case:{case.pk}", subject__startswith="催办")
    assert {m.recipient_id for m in warnings} == {personas.area_admin.pk}
    (notice,) = warnings
    assert notice.subject == (
        f"催办：案件 {case.number}「{on_site.milestone.name}」将于 {local(on_site.deadline):%m-%d %H:%M} 到期"
    )
    assert notice.body == "100% 蛀空的门框"  # a "%" in the title is kept as it is
    assert (notice.link, notice.also_sms) == (f"/cases/desk/{case.number}/", False)

    due = on_site.deadline
    result = jobs.sla_sweep(now=due, worker_id="w2")
    assert (result.breached, result.escalated) == (1, 1)
    (breached,) = _events(case, EventKind.BREACHED)
    assert breached.data == {"milestone": "on_site", "deadline": on_site.deadline.isoformat(), "worker": "w2"}
    (breach_audit,) = AuditEvent.objects.filter(verb="case.sla_breach", object_id=str(case.pk))
    assert breach_audit.object_type == "cases.case" and breach_audit.actor_id is None
    assert breach_audit.object_repr == f"{case.number} 100% 蛀空的门框"
    assert breach_audit.org_path == case.org.path and breach_audit.at == due
    assert breach_audit.details == {"milestone": "on_site", "deadline": on_site.deadline.isoformat()}

    (escalation,) = Escalation.objects.filter(case_milestone=on_site)
    assert (escalation.level, escalation.role, escalation.at, escalation.worker_id) == (
        1,
        "area_admin",
        due,
        "w2",
    )
    (escalated,) = _events(case, EventKind.ESCALATED)
    assert escalated.data == {"milestone": "on_site", "level": 1, "role": "area_admin", "worker": "w2"}
    (escalation_audit,) = AuditEvent.objects.filter(verb="case.escalate", object_id=str(case.pk))
    assert escalation_audit.details == {"milestone": "on_site", "level": 1, "role": "area_admin"}
    (pressed,) = OutboxMessage.objects.filter(reference=f"cases.case:{case.pk}", subject__startswith="督办")
    assert pressed.recipient_id == personas.area_admin.pk and pressed.also_sms
    assert pressed.subject == f"督办：案件 {case.number}「{on_site.milestone.name}」已超时"
    assert pressed.body == f"{termite.name} · 100% 蛀空的门框"


def test_notices_are_written_in_the_recipients_language(personas, termite):
    personas.area_admin.language = "en"
    personas.area_admin.save(update_fields=["language"])
    case = report(personas, termite)
    on_site = _clock(case, "on_site")
    jobs.sla_sweep(now=on_site.deadline)
    subjects = set(
        OutboxMessage.objects.filter(recipient=personas.area_admin).values_list("subject", flat=True)
    )
    name = on_site.milestone.name
    assert subjects == {
        f'Reminder: case {case.number} "{name}" is due at {local(on_site.deadline):%m-%d %H:%M}',
        f'Escalation: case {case.number} "{name}" is overdue',
    }


def test_escalation_follows_the_clocks_own_policy_version(personas, termite):
    case = report(personas, termite, now=T0)
    # A later version tells the street admin first, at once; the running clocks keep version 1's chain.
    reference.sla_policy_revise(
        actor=personas.superuser,
        policy=termite.policy,
        name="白蚁防治（改）",
        clock_type="natural",
        warn_percent=50,
        escalation_chain=[{"role": "street_admin", "after_hours": 0}],
        milestones=[
            reference.MilestoneSpec(code="on_site", name="上门", hours=12, met_on="on_site"),
            reference.MilestoneSpec(code="completed", name="完成", hours=36, met_on="work_done"),
        ],
        now=T0 + H,
    )
    jobs.sla_sweep(now=T0 + 24 * H)
    assert list(Escalation.objects.values_list("case_milestone__milestone__code", "level", "role")) == [
        ("on_site", 1, "area_admin")
    ]
    # Version 1's second step, 24 h after the due time.
    assert _clock(case, "on_site").next_escalation_at == T0 + 48 * H


def _sweep_statements(moment) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        result = jobs.sla_sweep(now=moment, worker_id="count")
    return len(queries.captured_queries), result.as_dict()


def test_the_statements_of_a_sweep_do_not_grow_with_the_rows_of_a_page(personas, termite):
    later = T0 + 10 * 24 * H
    for index in range(2):
        report(personas, termite, now=T0, address=f"康健路 {index} 号")
    for index in range(6):
        report(personas, termite, now=later, address=f"漕溪路 {index} 号")
    few, few_done = _sweep_statements(T0 + 48 * H)
    jobs.sla_sweep(now=T0 + 100 * H)  # the first cases' last escalation step
    many, many_done = _sweep_statements(later + 48 * H)
    assert few_done == {"warned": 4, "breached": 4, "escalated": 6}
    assert many_done == {"warned": 12, "breached": 12, "escalated": 18}
    assert few == many
    assert OutboxMessage.objects.filter(subject__startswith="督办").count() == 6 + 2 + 18
