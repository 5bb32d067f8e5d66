"""Turning a unit code from a request (path, query or body) into a unit: 404 outside the actor's subtree."""

from __future__ import annotations

from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404


def access_unit(actor, code) -> OrgUnit:
    return get_in_scope_or_404(actor, OrgUnit.objects.all(), path_field="path", code=code)
