"""The recognition app's lines on the staff to-do home."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.core import todo
from kangle.core.roles import Role
from kangle.orgs.scope import scope_queryset
from kangle.recognition.models import Nomination, NominationStatus, NomineeKind

# Member nominations pass the area first; branch nominations and area-approved ones go to the street.
AREA_STEP = Q(kind=NomineeKind.MEMBER, status=NominationStatus.SUBMITTED)
STREET_STEP = Q(status=NominationStatus.AREA_APPROVED) | Q(
    kind=NomineeKind.BRANCH, status=NominationStatus.SUBMITTED
)


def review_step_q(user) -> Q:
    """Nominations waiting on a review step this person takes."""
    if user.is_superuser:
        return AREA_STEP | STREET_STEP
    step = Q(pk__in=[])
    if user.has_role(Role.AREA_ADMIN):
        step |= AREA_STEP
    if user.has_role(Role.STREET_ADMIN):
        step |= STREET_STEP
    return step


def nominations_to_review(user, now):
    return todo.tally(
        scope_queryset(user, Nomination.objects.filter(review_step_q(user))),
        "nominated_at",
        key="recognition.nominations",
        label=_("Nominations to review"),
        url=f"{reverse('recognition:nominations')}?waiting=me",
        urgency=todo.ROUTINE,
        group="kangle",
    )
