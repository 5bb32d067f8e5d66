"""Where a member file sits in the tree, kept true when the tree changes.

A file names its unit (``org``, the deepest place known) and, besides it, its community, estate,
micro-grid and building group: units of those kinds on its unit's way up, as registration found them. A
unit's move changes the way up of everything under it, so the files of a moved subtree are placed again
(``follow_move``, registered with ``orgs.moves``): a place no longer on the file's way up gives way to the
unit of that kind that is (or to none), and a place still on it, or none, is kept. A move that would leave
files with no community above them is refused. Lists, counts and scopes by community rely on a file's
community holding its unit.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from kangle.core.errors import UserError
from kangle.members.models import Member
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q

# A file's place fields and the kind of unit each names.
PLACES = (
    ("community", OrgKind.COMMUNITY),
    ("estate", OrgKind.ESTATE),
    ("microgrid", OrgKind.MICROGRID),
    ("building_group", OrgKind.BUILDING_GROUP),
)


def places_on_the_way(way_up: dict[int, str], current: dict[str, int | None]) -> dict[str, int | None]:
    """A file's places (field → unit id) once its unit's way up is ``way_up`` (unit id → kind, the unit
    itself included), from its ``current`` places. A pure function: the data migration that repaired the
    files moved before this existed uses it too."""
    of_kind = {kind: pk for pk, kind in way_up.items()}
    return {
        field: current[field] if current[field] is None or current[field] in way_up else of_kind.get(kind)
        for field, kind in PLACES
    }


def follow_move(unit: OrgUnit) -> None:
    """Place again the files of ``unit``'s subtree, which has just moved (``orgs.moves``)."""
    known = {row.code: row for row in OrgUnit.objects.filter(subtree_q(unit.path))}
    known.update({row.code: row for row in OrgUnit.objects.filter(code__in=unit.ancestor_codes())})
    fields = [f"{field}_id" for field, _kind in PLACES]
    changes: dict[tuple, list[int]] = defaultdict(list)
    for row in Member.objects.filter(subtree_q(unit.path, "org__path")).values("pk", "org__path", *fields):
        way_up = {known[code].pk: known[code].kind for code in row["org__path"].split("/") if code in known}
        current = {field: row[f"{field}_id"] for field, _kind in PLACES}
        placed = places_on_the_way(way_up, current)
        if placed["community"] is None:
            raise UserError(
                "files_without_community",
                _("Member files in this unit would have no community above them; move it under a community"),
                field="parent",
            )
        if placed != current:
            changes[tuple(placed.items())].append(row["pk"])
    for placed, files in changes.items():
        Member.objects.filter(pk__in=files).update(**{f"{field}_id": pk for field, pk in placed})
