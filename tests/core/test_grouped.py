"""core.grouped.InGroups: a list read group by group (LATERAL) gives exactly the rows, in exactly the order,
of the plain ordered read, for every slice, cursor and direction, on its own and compiled once by
``rawrows.bound_reads``. PostgreSQL only: SQLite has no LATERAL join, and lists there read the plain way."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

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


def _walked(rows, size: int, seek=ORDER) -> list:
    """Every row of ``rows``, page by page along the API's cursors."""
    listing = Listing.of_parts([rows], seek=seek)
    seen, after = [], None
    while True:
        page = listing.paginate(limit=size, after=after)
        seen += page["items"]
        after = page["next"]
        if after is None:
            return seen


def test_a_cursor_walks_the_plain_order(estates):
    expected = _plain()
    assert _walked(_grouped(), 4) == _walked(_estates().order_by(*ORDER), 4) == expected


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


PLACES_ORDER = ("community__path", "name", "id")
# An annotation among the fields, and the point's fields before the micro-grid's although joined after it.
PLACES = (
    "id",
    "shout",
    "point__code",
    "name",
    "microgrid__code",
    "microgrid__name",
    "community__path",
    "point__name",
)


@pytest.fixture
def placed(personas):
    """Files over two communities, some with a micro-grid, some with a registration point, some with neither."""
    from kangle.members import services
    from kangle.members.constants import Channel
    from kangle.members.models import Member

    tree = personas.tree
    made = []
    for index, (community, grid, point) in enumerate(
        (
            (tree.community_a, tree.microgrid_a, tree.point_a),
            (tree.community_a, None, tree.point_street),
            (tree.community_a, tree.microgrid_a, None),
            (tree.community_a, None, None),
            (tree.community_b, None, tree.point_b),
            (tree.community_b, None, None),
        )
    ):
        data = {
            "name": ("王芳", "李明")[index % 2],
            "phone": f"1370000000{index}",
            "political_status": "full",
        }
        data |= {"community": community} | ({"microgrid": grid.code} if grid else {})
        member = services.member_register(actor=personas.street_admin, channel=Channel.DESK, data=data).member
        Member.objects.filter(pk=member.pk).update(point=point)
        made.append(member.pk)
    return made


def _files(placed):
    from kangle.members.models import Member

    return Member.objects.filter(pk__in=placed).annotate(shout=Upper("name")).values(*PLACES)


def _placed(placed, order=PLACES_ORDER):
    return InGroups(
        _communities(), _files(placed), link="community", order=order, joined_after=("microgrid", "point")
    )


def test_fields_joined_after_the_cut_are_the_plain_reads(placed):
    """A key's fields joined once each group's rows are cut: the same rows and values as the plain read (with
    and without the key, an annotation among the fields, two keys named in another order than their fields),
    for every slice, both directions, a cursor, and compiled once."""
    expected = list(_files(placed).order_by(*PLACES_ORDER))
    assert len(expected) == 6
    assert {row["point__code"] for row in expected} == {"P-A", "P-ST", "P-B", None}
    assert {row["microgrid__code"] for row in expected} == {"KJ-C01-E1-G1-M1", None}
    assert list(_placed(placed)) == expected
    for start in range(len(expected) + 1):
        for size in (1, 4, 50):
            assert list(_placed(placed)[start : start + size]) == expected[start : start + size], (
                start,
                size,
            )
    descending = ("-community__path", "-name", "id")
    assert list(_placed(placed, descending)) == list(_files(placed).order_by(*descending))
    assert _walked(_placed(placed), 4, PLACES_ORDER) == expected
    reads = bound_reads(
        ("test.grouped.placed",), lambda name: [_placed(placed).filter(name=name)[:50]], ("王芳",)
    )
    for name in ("王芳", "李明"):
        assert reads[0].rows((name,)) == [row for row in expected if row["name"] == name]
    # The related tables are joined outside the group's read, to the rows kept; the rows' own unused left
    # joins to them are dropped by PostgreSQL (each table is read once).
    inside, _sep, outside = reads[0].sql.partition("CROSS JOIN LATERAL (")[2].partition(') AS "grouped"')
    assert '"microgrid__code"' not in inside and '"point__code"' not in inside
    assert 'AS "after0"' in outside and 'AS "after1"' in outside
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + reads[0].sql, reads[0]._params(("王芳",), connection))
        plan = json.dumps(cursor.fetchone()[0])
    assert plan.count('"Relation Name": "orgs_registrationpoint"') == 1, plan


def test_only_a_nullable_keys_own_fields_can_be_joined_after_the_cut(placed):
    from kangle.members.models import Member

    files = Member.objects.all()
    order = PLACES_ORDER

    def grouped(values, keys, order=order):
        return InGroups(
            _communities(), files.values(*values), link="community", order=order, joined_after=keys
        )

    for values, keys, message in (
        (("id", "name", "community__path"), ("name",), "foreign key"),
        (("id", "name", "org__name"), ("org",), "nullable"),  # a required key: an inner join left inside
        (("id", "name", "community__name"), ("community",), "link"),
        (("id", "name", "point__code"), ("microgrid", "point"), "must bring"),
        (("id", "name", "microgrid", "microgrid__code"), ("microgrid",), "as it is"),
        (("id", "name", "microgrid__parent__name"), ("microgrid",), "own fields"),
    ):
        with pytest.raises(ValueError, match=message):
            grouped(values, keys)
    with pytest.raises(ValueError, match="order within"):
        grouped(
            ("id", "name", "microgrid__name"), ("microgrid",), ("community__path", "microgrid__name", "id")
        )


def test_read_on_the_spot_its_values_are_written_into_its_sql(estates):
    """``fetch`` (the read compiled on the spot, when its values cannot be bound) runs with its values in its
    SQL where statements are prepared: passed as parameters, the scope's path pattern left PostgreSQL a
    generic plan after five runs that walked every group. Its rows stay the plain read's."""
    from kangle.core.rawrows import prepares_statements

    grouped = InGroups(
        _communities().filter(path__startswith=estates[0].path[:-3]),
        _estates().filter(parent__path__startswith=estates[0].path[:-3]),
        link="parent",
        order=ORDER,
    )
    expected = list(_estates().filter(parent__path__startswith=estates[0].path[:-3]).order_by(*ORDER))
    assert expected
    with CaptureQueriesContext(connection) as captured:
        for _run in range(8):
            assert grouped.fetch() == expected
    statements = {query["sql"] for query in captured.captured_queries}
    assert len(statements) == 1
    if prepares_statements(connection):
        assert estates[0].path[:-3] in statements.pop()  # the pattern is in the SQL, not a parameter
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT parameter_types FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%LATERAL%"],
            )
            prepared = cursor.fetchall()
        assert prepared and all(types in ("{}", []) for (types,) in prepared), prepared
