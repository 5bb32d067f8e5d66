"""The activities app's lines on the staff to-do home."""

from __future__ import annotations

from django.db.models import F, Sum
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kangle.activities.models import CallStatus, RecordStatus, ServiceRecord, WhistleCall
from kangle.core import todo
from kangle.orgs.scope import scope_queryset


def records_to_verify(user, now):
    return todo.tally(
        scope_queryset(user, ServiceRecord.objects.filter(status=RecordStatus.PENDING)),
        "created_at",
        key="activities.records",
        label=_("Service records to verify"),
        url=f"{reverse('activities:records')}?status={RecordStatus.PENDING}",
        urgency=todo.APPROVE,
        group="kangle",
    )


def open_calls(user, now):
    return todo.Tally(
        scope_queryset(user, WhistleCall.objects.filter(status=CallStatus.OPEN)),
        "created_at",
        _open_calls_line,
        sums={"missing": Sum(Greatest(F("people_needed") - F("responded_count"), 0))},
    )


def _open_calls_line(figures: dict) -> todo.TodoLine:
    missing = figures["missing"] or 0
    return todo.TodoLine(
        key="activities.calls",
        label=_("Open whistle calls"),
        count=figures["n"],
        oldest=figures["oldest"],
        url=f"{reverse('activities:calls')}?status={CallStatus.OPEN}",
        urgency=todo.DUE_SOON,
        group="kangle",
        detail=gettext("%(n)d more people needed") % {"n": missing} if missing else "",
    )
