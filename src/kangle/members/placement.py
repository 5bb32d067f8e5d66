"""Where a member file sits in the tree, kept true when the tree changes.

A file names its unit (``org``, the deepest place known) and, besides it, its community, estate,
micro-grid and building group: the units of those kinds on its unit's way up, as registration derives them.
A unit's move changes the way up of everything under it, so the files of a moved subtree are placed again
(``follow_move``, registered with ``orgs.moves``), and the member's role at their community follows the
file. A move that would leave files with no community above them is refused. Lists, counts and scopes by
community rely on a file's community holding its unit.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import RoleAssignment
from kangle.core import audit
from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.members.models import Member
from kangle.orgs.models import KIND_RANK, OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q

# A file's place fields and the kind of unit each names.
PLACES = (
    ("community", OrgKind.COMMUNITY),
    ("estate", OrgKind.ESTATE),
    ("microgrid", OrgKind.MICROGRID),
    ("building_group", OrgKind.BUILDING_GROUP),
)


# Their columns, as a file's row is read.
PLACE_COLUMNS = tuple(f"{field}_id" for field, _kind in PLACES)


def places_on_the_way(path: str, units: dict[str, tuple[int, str]]) -> dict[str, int | None]:
    """A file's places (field → unit id or None) when its unit's path is ``path``: the unit of each kind
    on its way up (the unit itself included), as registration derives them. ``units`` gives (id, kind) by
    code for every unit on the way; the data migration passes its own."""
    of_kind = {units[code][1]: units[code][0] for code in path.split("/") if code in units}
    return {field: of_kind.get(kind) for field, kind in PLACES}


def places_of(row: dict) -> dict[str, int | None]:
    """The places a file's row (with ``PLACE_COLUMNS``) names now."""
    return {field: row[f"{field}_id"] for field, _kind in PLACES}


def follow_move(unit: OrgUnit, actor) -> None:
    """Place again the files of ``unit``'s subtree, which has just moved (``orgs.moves``)."""
    if KIND_RANK[unit.kind] <= KIND_RANK[OrgKind.COMMUNITY]:
        return  # a community or a unit above one moves with everything its files name
    on_the_way = OrgUnit.objects.filter(subtree_q(unit.path) | Q(code__in=unit.ancestor_codes()))
    known = {code: (pk, kind) for code, pk, kind in on_the_way.values_list("code", "pk", "kind")}
    changes: dict[tuple, list[int]] = defaultdict(list)
    roles: set[tuple[int, int, int]] = set()  # (user, community it leaves, community it joins)
    files = Member.objects.filter(subtree_q(unit.path, "org__path"))
    for row in files.values("pk", "user_id", "org__path", *PLACE_COLUMNS).iterator():
        placed = places_on_the_way(row["org__path"], known)
        if placed["community"] is None:
            raise UserError(
                "files_without_community",
                _("Member files in this unit would have no community above them; move it under a community"),
                field="parent",
            )
        if placed != places_of(row):
            changes[tuple(placed.items())].append(row["pk"])
            if row["user_id"] and placed["community"] != row["community_id"]:
                roles.add((row["user_id"], row["community_id"], placed["community"]))
    for placed, pks in changes.items():
        Member.objects.filter(pk__in=pks).update(**{f"{field}_id": pk for field, pk in placed})
    for user_id, left, joined in roles:
        follow_role(RoleAssignment.objects, user_id, left, joined)
    if changes:
        placed_files = sum(len(pks) for pks in changes.values())
        audit.record(actor=actor, verb="member.place", obj=unit, details={"files": placed_files})


def follow_role(assignments, user_id: int, left: int, joined: int) -> None:
    """The member's role at the community their file left goes to the one it joined (``assignments``: the
    role assignments' manager, the data migration's own included)."""
    old = assignments.filter(user_id=user_id, role=Role.MEMBER, org_id=left)
    if assignments.filter(user_id=user_id, role=Role.MEMBER, org_id=joined).exists():
        old.update(is_active=False)
    else:
        old.update(org_id=joined)
