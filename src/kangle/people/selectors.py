"""Who holds which role where, inside the reader's subtree."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kangle.accounts.models import RoleAssignment
from kangle.core.crypto import blind_index
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import scope_queryset
from kangle.orgs.selectors import subtree_q


def role_holders(
    actor, *, query: str = "", role: str = "", unit: OrgUnit | None = None, active_only: bool = True
) -> QuerySet[RoleAssignment]:
    """Assignments in the actor's subtree, searchable by name, username or exact mobile number."""
    rows = scope_queryset(actor, RoleAssignment.objects.all()).select_related("user", "org")
    if active_only:
        rows = rows.filter(is_active=True)
    if role:
        rows = rows.filter(role=role)
    if unit is not None:
        rows = rows.filter(subtree_q(unit.path, "org__path"))
    query = normalise_text(query)
    if query:
        phone = normalise_phone(query)
        if is_mobile(phone):
            rows = rows.filter(user__phone_hash=blind_index(phone))
        else:
            rows = rows.filter(Q(user__username__icontains=query) | Q(user__display_name__icontains=query))
    return rows.order_by("org__path", "role", "user__username")


def holders_at(unit: OrgUnit) -> QuerySet[RoleAssignment]:
    """Assignments held at exactly this node (the node page lists them; the subtree is in the search)."""
    return (
        RoleAssignment.objects.filter(org=unit, is_active=True)
        .select_related("user")
        .order_by("role", "user__username")
    )
