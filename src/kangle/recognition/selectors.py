"""Reads of recognition shared by the pages and the API: which letters and nominations a user may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from kangle.core.roles import Role
from kangle.orgs.scope import scope_queryset
from kangle.recognition import permissions
from kangle.recognition.models import CommendationLetter, LetterStatus, Nomination


def letters_for(user) -> QuerySet[CommendationLetter]:
    """Staff: the letters in their subtree. An employer's Party organisation: its issued letters."""
    rows = CommendationLetter.objects.select_related("member", "party_org", "org", "street")
    if permissions.is_staff(user):
        return scope_queryset(user, rows)
    if getattr(user, "is_authenticated", False) and user.has_role(Role.EMPLOYER_PARTY_ORG):
        return rows.filter(party_org__account=user, status=LetterStatus.ISSUED)
    return rows.none()


def access_letter(user, letter_id: int) -> CommendationLetter:
    """One letter the user may see; anything else is a 404."""
    letter = letters_for(user).filter(pk=letter_id).first()
    if letter is None:
        raise Http404
    return letter


def nominations_for(user) -> QuerySet[Nomination]:
    rows = Nomination.objects.select_related("member", "party_org", "org").prefetch_related("steps")
    return scope_queryset(user, rows)
