"""Who may administer people, and turning ids from a request into people and assignments (404 outside)."""

from __future__ import annotations

from django.http import Http404

from kangle.accounts.models import RoleAssignment, User
from kangle.accounts.permissions import can_assign_role
from kangle.core.crypto import blind_index
from kangle.core.roles import Role
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.orgs import access as org_access
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset

# The accounts the people pages create; members, residents, contractors and employers have their own flows.
CREATABLE_ROLES = (
    Role.STREET_ADMIN,
    Role.AREA_ADMIN,
    Role.COMMUNITY_SECRETARY,
    Role.COMMUNITY_STAFF,
    Role.GRID_LEADER,
)


def can_manage_people(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and (
        actor.is_superuser or actor.has_role(Role.STREET_ADMIN) or actor.has_role(Role.AREA_ADMIN)
    )


def can_manage_user(actor, user: User) -> bool:
    """Every active role ``user`` holds is one ``actor`` could grant: an area admin cannot disable a street admin."""
    if actor.is_superuser:
        return True
    if user.is_superuser:
        return False
    rows = user.role_rows
    if not rows:
        return False
    units = OrgUnit.objects.in_bulk([org_id for _role, _path, org_id in rows])
    return all(can_assign_role(actor, role, units[org_id]) for role, _path, org_id in rows)


def access_unit(actor, code: str) -> OrgUnit:
    if not can_manage_people(actor):
        raise Http404
    return org_access.access_unit(actor, code)


def access_user(actor, user_id) -> User:
    """A person holding at least one role inside the actor's subtree (all their roles are then listed)."""
    if not can_manage_people(actor):
        raise Http404
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise Http404 from None
    holders = scope_queryset(actor, RoleAssignment.objects.filter(user_id=user_id))
    if not actor.is_superuser and not holders.exists():
        raise Http404
    try:
        return User.objects.get(pk=user_id)
    except User.DoesNotExist:
        raise Http404 from None


def access_assignment(actor, assignment_id) -> RoleAssignment:
    if not can_manage_people(actor):
        raise Http404
    try:
        assignment_id = int(assignment_id)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_in_scope_or_404(actor, RoleAssignment.objects.select_related("user", "org"), pk=assignment_id)


def find_person_in_scope(actor, identifier: str) -> User | None:
    """The account with this exact username or mobile number, if it holds a role in the actor's subtree."""
    identifier = normalise_text(identifier)
    phone = normalise_phone(identifier)
    if is_mobile(phone):
        users = User.objects.filter(phone_hash=blind_index(phone))
    else:
        users = User.objects.filter(username=identifier)
    user = users.first()
    if user is None:
        return None
    if actor.is_superuser or scope_queryset(actor, RoleAssignment.objects.filter(user=user)).exists():
        return user
    return None
