"""Finding objects for pages and the API, always through the caller's scope: outside it, 404."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import User
from kangle.core.errors import NotAllowed
from kangle.orgs.access import access_unit
from kangle.orgs.models import OrgUnit
from kangle.prevention import permissions
from kangle.prevention.models import Campaign, InspectionRound, MonitoringPoint, Warning


def _one(queryset, **lookup):
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def require_workbench(actor) -> None:
    if not permissions.can_use_workbench(actor):
        raise NotAllowed(_("Only street, area and community staff may see this"))


def require_inspector_pages(actor) -> None:
    if not permissions.can_use_inspector_pages(actor):
        raise NotAllowed(_("Only inspectors may use this page"))


def staff_unit(actor, code: str) -> OrgUnit:
    return access_unit(actor, code)


def inspector_unit(actor, code: str) -> OrgUnit:
    return _one(permissions.inspector_queryset(actor, OrgUnit.objects.all(), "path"), code=code)


def point(actor, code: str) -> MonitoringPoint:
    return _one(
        permissions.inspector_queryset(actor, MonitoringPoint.objects.select_related("org")), code=code
    )


def inspection_round(actor, pk) -> InspectionRound:
    return _one(permissions.overlapping_queryset(actor, InspectionRound.objects.select_related("org")), pk=pk)


def warning(actor, pk) -> Warning:
    return _one(
        permissions.staff_queryset(actor, Warning.objects.select_related("org", "case"), "org_path"), pk=pk
    )


def campaign(actor, pk) -> Campaign:
    return _one(
        permissions.overlapping_queryset(actor, Campaign.objects.select_related("org", "contractor", "lead")),
        pk=pk,
    )


def technician(username: str) -> User | None:
    username = (username or "").strip()
    if not username:
        return None
    return User.objects.filter(username=username, is_active=True).first()
