"""The cases app's lines on the staff to-do home: clocks first, then the desk's decisions."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.cases import selectors
from kangle.cases.models import ExtensionRequest, ExtensionStatus
from kangle.core import todo
from kangle.orgs.scope import scope_queryset


def _queue(query: str) -> str:
    return f"{reverse('cases:desk-queue')}?{query}"


def breached(user, now):
    figures = selectors.overdue_attention(user, now)
    return todo.TodoLine(
        key="cases.breached",
        label=_("Cases past their deadline"),
        count=figures.count,
        capped=figures.capped,
        oldest=figures.oldest,
        url=_queue("sla=overdue"),
        urgency=todo.BREACHED,
        group="cases",
    )


def due_soon(user, now):
    figures = selectors.warning_attention(user, now)
    return todo.TodoLine(
        key="cases.due_soon",
        label=_("Cases due soon"),
        count=figures.count,
        capped=figures.capped,
        oldest=figures.oldest,
        url=_queue("sla=warning"),
        urgency=todo.DUE_SOON,
        group="cases",
    )


def extensions(user, now):
    rows = ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING)
    return todo.tally(
        scope_queryset(user, rows, "case_milestone__case__org__path"),
        "requested_at",
        key="cases.extensions",
        label=_("Extensions to approve"),
        url=_queue("stage=extension"),
        urgency=todo.DECIDE,
        group="cases",
    )


def returned(user, now):
    return todo.tally(
        selectors.filter_cases(selectors.staff_cases(user), {"stage": "returned"}, now),
        "reported_at",
        key="cases.returned",
        label=_("Returned cases to re-dispatch"),
        url=_queue("stage=returned"),
        urgency=todo.DECIDE,
        group="cases",
    )


def to_dispatch(user, now):
    return todo.tally(
        selectors.filter_cases(selectors.staff_cases(user), {"stage": "dispatch"}, now),
        "reported_at",
        key="cases.dispatch",
        label=_("Cases to accept and dispatch"),
        url=_queue("stage=dispatch"),
        urgency=todo.DISPATCH,
        group="cases",
    )
