"""The members app's lines on the staff to-do home."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.core import todo
from kangle.members.constants import Status
from kangle.members.selectors import files_for


def registrations_to_approve(user, now):
    return todo.tally(
        files_for(user).filter(status=Status.PENDING),
        "registered_at",
        key="members.pending",
        label=_("Registrations to approve"),
        url=f"{reverse('members:list')}?status={Status.PENDING}",
        urgency=todo.APPROVE,
        group="kangle",
    )
