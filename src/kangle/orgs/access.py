"""Turning a unit code from a request (path, query or body) into a unit: 404 outside the actor's subtree."""

from __future__ import annotations

from django.http import Http404

from kangle.core.rawrows import bound_rows, prepared_for
from kangle.core.roles import person_key
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import scope_queryset


def access_unit(actor, code) -> OrgUnit:
    """The unit ``code`` in the actor's subtree (404 outside it, and for anyone signed out), its read
    compiled once per person (``rawrows.prepared_for``): building the scoped query cost more than running it."""
    if not getattr(actor, "is_authenticated", False):
        raise Http404
    unit = prepared_for(
        ("orgs.unit", person_key(actor)),
        lambda wanted: scope_queryset(actor, OrgUnit.objects.filter(code=wanted), path_field="path"),
    ).first(str(code))
    if unit is None:
        raise Http404
    return unit


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
