"""core.grouped.InGroups: a list read group by group (LATERAL) gives exactly the rows, in exactly the order,
of the plain ordered read, for every slice, cursor and direction, on its own and compiled once by
``rawrows.bound_reads``. PostgreSQL only: SQLite has no LATERAL join, and lists there read the plain way."""

from __future__ import annotations

import pytest
from django.db.models import Q

from kangle.core.grouped import InGroups
from kangle.core.pagination import Listing
from kangle.core.rawrows import bound_reads
from kangle.orgs.models import OrgKind, OrgUnit
from personas import make_unit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ORDER = ("parent__path", "name", "id")
FIELDS = ("id", "name", "code", "parent__path")


@pytest.fixture
def estates(personas):
    """Estates under five communities, their names interleaved across communities and repeated within one
    (the id breaks the tie), and one community with none."""
    tree = personas.tree
    communities = [tree.community_a, tree.community_b]
    communities += [make_unit(tree.area_2, OrgKind.COMMUNITY, f"T-C{n}", f"测试社区{n}") for n in range(3)]
    for index, community in enumerate(communities[:4]):
        for number in range(3 + index):
            make_unit(community, OrgKind.ESTATE, f"{community.code}-T{number}", f"小区{(number * 7) % 4}")
    return communities


def _estates():
    return OrgUnit.objects.filter(kind=OrgKind.ESTATE, code__contains="-T").values(*FIELDS)


def _communities():
    return OrgUnit.objects.filter(kind=OrgKind.COMMUNITY)


def _plain(order=ORDER):
    return list(_estates().order_by(*order))


def _grouped(order=ORDER, groups=None):
    return InGroups(_communities() if groups is None else groups, _estates(), link="parent", order=order)


def test_every_slice_is_the_plain_reads(estates):
    expected = _plain()
    assert len(expected) == 3 + 4 + 5 + 6
    assert list(_grouped()) == expected
    for start in range(len(expected) + 1):
        for size in (1, 2, 5, 50):
            assert list(_grouped()[start : start + size]) == expected[start : start + size], (start, size)
    assert list(_grouped()[3:][2:4]) == expected[5:7], "a slice of a slice counts from the first"
    # As a queryset's: a slice past the end of the first is empty, a stop beyond it keeps the first's.
    assert list(_grouped()[10:20][15:]) == list(_estates().order_by(*ORDER)[10:20][15:]) == []
    assert list(_grouped()[0:5][7:9]) == [] and list(_grouped()[2:6][1:50]) == expected[3:6]
    assert list(_grouped()[5:3]) == []
    with pytest.raises(ValueError, match="Negative"):
        _grouped()[-1:]


def test_descending_orders_are_the_plain_reads(estates):
    for order in (
        ("-parent__path", "name", "id"),
        ("parent__path", "-name", "-id"),
        ("-parent__path", "-name", "id"),
    ):
        expected = _plain(order)
        assert list(_grouped(order)) == expected, order
        assert list(_grouped(order)[4:9]) == expected[4:9], order


def test_groups_decide_nothing_but_where_to_look(estates):
    expected_all = _plain()
    # Extra groups (every unit, not only communities) add no rows; the rows' own conditions still hold.
    everything = InGroups(OrgUnit.objects.all(), _estates().filter(name="小区0"), link="parent", order=ORDER)
    assert list(everything) == [row for row in _plain() if row["name"] == "小区0"]
    # A group named twice (a community once per estate under it) is read once.
    twice = OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, children__kind=OrgKind.ESTATE)
    assert twice.count() > twice.distinct().count()
    assert list(_grouped(groups=twice)) == expected_all
    # A group left out leaves its rows out: the groups must hold every group a row may be in.
    some = _grouped(groups=_communities().exclude(code="KJ-C01"))
    assert list(some) == [row for row in _plain() if row["parent__path"] != estates[0].path]
    # No group at all: no rows, without asking.
    assert list(_grouped(groups=_communities().filter(Q(pk__in=[])))) == []


def test_the_order_names_the_group_first_and_rows_values_within():
    with pytest.raises(ValueError, match="group"):
        InGroups(_communities(), _estates(), link="parent", order=("name", "id"))
    with pytest.raises(ValueError, match="values"):
        list(InGroups(_communities(), _estates(), link="parent", order=("parent__path", "depth", "id")))


def test_a_cursor_walks_the_plain_order(estates):
    expected = _plain()
    for parts in (lambda: [_grouped()], lambda: [_estates().order_by(*ORDER)]):
        listing = Listing.of_parts(parts(), seek=ORDER)
        seen, after = [], None
        while True:
            page = listing.paginate(limit=4, after=after)
            seen += page["items"]
            after = page["next"]
            if after is None:
                break
        assert seen == expected


def test_compiled_once_it_binds_each_requests_values(estates):
    built = []

    def build(code, name):
        built.append((code, name))
        return [
            InGroups(
                _communities().filter(code=code),
                _estates().filter(parent__code=code, name=name),
                link="parent",
                order=ORDER,
            )[:50]
        ]

    asked = [(community.code, f"小区{n}") for community in estates for n in range(4)]
    found_any = False
    for code, name in asked:
        reads = bound_reads(("test.grouped",), build, (code, name))
        assert reads is not None
        expected = [
            row for row in _plain() if row["parent__path"].endswith(f"/{code}/") and row["name"] == name
        ]
        assert reads[0].rows((code, name)) == expected, (code, name)
        found_any = found_any or bool(expected)
    assert found_any
    assert len(built) == 2, "compiled once, at two sets of markers"
    # Through a shaped listing with a cursor too.
    listing = Listing.shaped(("test.grouped.list",), build, ("KJ-C08", "小区0"), seek=ORDER)
    first = listing.paginate(limit=1)
    assert (
        first["items"]
        == [row for row in _plain() if row["parent__path"].endswith("/KJ-C08/") and row["name"] == "小区0"][
            :1
        ]
    )


NAMED = (*FIELDS, "parent__name", "parent__code")


def _named(order=ORDER, start=None, stop=None):
    rows = InGroups(
        _communities(),
        OrgUnit.objects.filter(kind=OrgKind.ESTATE, code__contains="-T").values(*NAMED),
        link="parent",
        order=order,
        joined_after=("parent",),
    )
    return rows if start is None else rows[start:stop]


def _named_plain(order=ORDER):
    return list(
        OrgUnit.objects.filter(kind=OrgKind.ESTATE, code__contains="-T").values(*NAMED).order_by(*order)
    )


def test_fields_joined_after_the_cut_are_the_plain_reads(estates):
    """A key's fields joined once each group's rows are cut: the same rows and values as the plain read, for
    every slice, both directions, a cursor, and compiled once."""
    expected = _named_plain()
    assert expected and all(row["parent__name"] and row["parent__code"] for row in expected)
    assert list(_named()) == expected
    for start in range(len(expected) + 1):
        for size in (1, 4, 50):
            assert list(_named(start=start, stop=start + size)) == expected[start : start + size], (
                start,
                size,
            )
    descending = ("-parent__path", "-name", "id")
    assert list(_named(descending)) == _named_plain(descending)
    listing = Listing.of_parts([_named()], seek=ORDER)
    seen, after = [], None
    while True:
        page = listing.paginate(limit=5, after=after)
        seen += page["items"]
        after = page["next"]
        if after is None:
            break
    assert seen == expected
    reads = bound_reads(
        ("test.grouped.named",), lambda code: [_named().filter(parent__code=code)[:50]], ("KJ-C01",)
    )
    assert reads[0].rows(("KJ-C01",)) == [row for row in expected if row["parent__code"] == "KJ-C01"]
    assert reads[0].rows(("KJ-C02",)) == [row for row in expected if row["parent__code"] == "KJ-C02"]
    # The related table is joined outside the group's read, to the rows kept.
    inside, _sep, outside = reads[0].sql.partition("CROSS JOIN LATERAL (")[2].partition(') AS "grouped"')
    assert '"parent__name"' not in inside and 'LEFT OUTER JOIN "orgs_orgunit" AS "after0"' in outside


def test_only_a_keys_own_fields_can_be_joined_after_the_cut():
    estates = OrgUnit.objects.filter(kind=OrgKind.ESTATE)
    with pytest.raises(ValueError, match="foreign key"):
        InGroups(
            _communities(), estates.values("id", "name"), link="parent", order=ORDER, joined_after=("name",)
        )
    with pytest.raises(ValueError, match="own fields"):
        InGroups(
            _communities(),
            estates.values("id", "name", "parent__parent__name"),
            link="parent",
            order=ORDER,
            joined_after=("parent",),
        )
    with pytest.raises(ValueError, match="order within"):
        InGroups(
            _communities(),
            estates.values("id", "name", "parent__name"),
            link="parent",
            order=("parent__path", "parent__name", "id"),
            joined_after=("parent",),
        )
