"""The role vocabulary shared by every app.

Role assignments themselves live in ``accounts``; the names live here, at the bottom of the layers, so
that ``orgs`` (below ``accounts``) can write permission predicates without importing it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STREET_ADMIN = "street_admin", _("Street admin")
    AREA_ADMIN = "area_admin", _("Area admin")
    COMMUNITY_SECRETARY = "community_secretary", _("Community secretary")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_LEADER = "grid_leader", _("Grid leader")
    MEMBER = "member", _("Member")
    EMPLOYER_PARTY_ORG = "employer_party_org", _("Employer Party organisation")
    CONTRACTOR = "contractor", _("Contractor")
    RESIDENT = "resident", _("Resident")


# Roles that work on the workbench and see a subtree of the organisation tree.
STAFF_ROLES = frozenset(
    {Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF, Role.GRID_LEADER}
)
# Roles that use the phone pages.
PHONE_ROLES = frozenset({Role.MEMBER, Role.RESIDENT, Role.CONTRACTOR})


def person_key(person) -> tuple:
    """What a query compiled for a signed-in person can depend on: who they are, whether a superuser, their
    roles and the paths of their part of the tree (``accounts.User`` provides them). Equal keys give the
    same SQL, so such a query is compiled once per key and only run afterwards."""
    return (person.pk, person.is_superuser, frozenset(person.roles), tuple(person.scope_paths))
