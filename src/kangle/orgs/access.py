"""Turning a unit code from a request (path, query or body) into a unit: 404 outside the actor's subtree."""

from __future__ import annotations

from django.http import Http404

from kangle.core.rawrows import bound_rows
from kangle.core.roles import person_key
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset


def access_unit(actor, code) -> OrgUnit:
    return get_in_scope_or_404(actor, OrgUnit.objects.all(), path_field="path", code=code)


def unit_path(actor, code: str) -> str:
    """The path of the unit ``code`` in the actor's subtree (404 outside it), for lists narrowed to a
    subtree on every request: its read is compiled once per person (``rawrows.bound_rows``)."""
    if not getattr(actor, "is_authenticated", False):
        raise Http404

    def build(wanted):
        units = scope_queryset(actor, OrgUnit.objects.filter(code=wanted), path_field="path")
        return units.values("path")[:1]

    found = bound_rows(("orgs.unit_path", person_key(actor)), build, (code,))
    if not found:
        raise Http404
    return found[0]["path"]
