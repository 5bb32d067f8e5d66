"""core.rawrows.bound_reads and pagination.Listing.shaped: a read compiled once with markers gives, for any
values bound into it later, exactly the rows the ORM gives for those values, on SQLite and PostgreSQL; reads
whose values cannot be bound are refused, and their lists run through the ORM unchanged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from cases.helpers import T0, report
from kangle.accounts.models import RoleAssignment
from kangle.cases.defaults import seed
from kangle.cases.models import Case, CaseCategory, CaseEvent, Milestone, SlaPolicy
from kangle.core import rawrows
from kangle.core.pagination import Listing
from kangle.core.rawrows import bound_reads

pytestmark = pytest.mark.django_db


@pytest.fixture
def termite(db) -> CaseCategory:
    seed(SlaPolicy, Milestone, CaseCategory)
    return CaseCategory.objects.select_related("policy").get(code="termite")


def _events(case_id: int, after: dt.datetime, kind: str):
    return [
        CaseEvent.objects.filter(case_id=case_id, at__gte=after, kind=kind)
        .order_by("at", "id")
        .values("id", "case_id", "kind", "at", "public")
    ]


def test_bound_values_give_the_rows_the_orm_gives(personas, termite):
    cases = [report(personas, termite, now=T0 + dt.timedelta(hours=hour)) for hour in range(3)]
    built = []

    def build(case_id, after, kind):
        built.append((case_id, after, kind))
        return _events(case_id, after, kind)

    key = ("test.events", "by case")
    asked = [
        (case.pk, moment, kind)
        for case in cases
        for moment in (T0 - dt.timedelta(days=1), T0 + dt.timedelta(hours=1), T0 + dt.timedelta(days=9))
        for kind in ("reported", "accepted", "no such kind")
    ]
    found_any = False
    for values in asked:
        reads = bound_reads(key, build, values)
        assert reads is not None and len(reads) == 1
        expected = list(_events(*values)[0])
        assert reads[0].rows(values) == expected, values
        assert reads[0].count(values) == len(expected)
        found_any = found_any or bool(expected)
    assert found_any, "no case had a matching event: the comparison proved nothing"
    assert len(built) == 2, "the read is compiled once (at two sets of markers) and only bound afterwards"


def test_an_integer_compared_with_a_text_column_is_bound_as_text(personas):
    role = RoleAssignment.objects.order_by("pk").first()

    def build(user_id, role_name):
        return [RoleAssignment.objects.filter(user_id=user_id, role=role_name).values("pk", "role")]

    reads = bound_reads(("test.roles",), build, (role.user_id, 12345))
    assert reads is not None and reads[0].rows((role.user_id, 12345)) == []
    # The same key with a text value is another shape: types are part of what is compiled.
    reads = bound_reads(("test.roles",), build, (role.user_id, role.role))
    assert {"pk": role.pk, "role": role.role} in reads[0].rows((role.user_id, role.role))


def test_values_that_cannot_be_bound_are_refused():
    def contains(text):
        return [Case.objects.filter(number__icontains=text).values("pk")]

    assert bound_reads(("test.contains",), contains, ("KJ",)) is None  # the value is changed into a pattern
    for value in (None, True, 1.5, dt.datetime(2026, 1, 1), [1, 2]):  # no marker for these
        assert (
            bound_reads(("test.any",), lambda v: [Case.objects.filter(pk=v).values("pk")], (value,)) is None
        )

    def branching(number):
        # The SQL differs with the value: a branch chosen by it belongs in the key, and is caught here.
        queryset = Case.objects.filter(number=number)
        first_markers = number.startswith("\u2063kangle-mark-0")
        return [queryset.values("pk") if first_markers else queryset.values("pk", "number")]

    assert bound_reads(("test.branch",), branching, ("x",)) is None


def test_an_empty_read_gives_no_rows_without_a_query(django_assert_num_queries):
    reads = bound_reads(("test.none",), lambda pk: [Case.objects.none().values("pk")], (1,))
    with django_assert_num_queries(0):
        assert reads[0].rows((1,)) == [] and reads[0].count((1,)) == 0


def _every_page(listing, size: int, *, statements=None, checked_by=None) -> list:
    """Every row of ``listing()``, page by page along its cursors; each page's count must be the whole list's,
    and, with ``statements``, each page must run that many statements (``checked_by``: the fixture)."""
    pages, after, counts = [], None, set()
    while True:
        if statements is None:
            page = listing().paginate(limit=size, after=after)
        else:
            with checked_by(statements(after)):
                page = listing().paginate(limit=size, after=after)
        pages.extend(page["items"])
        counts.add((page["count"], page["count_capped"]))
        after = page["next"]
        if after is None:
            assert counts == {(len(pages), False)}, counts
            return pages


def test_a_shaped_listing_pages_as_the_orm_does(personas, termite):
    for hour in range(7):
        report(personas, termite, now=T0 + dt.timedelta(minutes=hour * 7))
    order = ("-reported_at", "-id")

    def build(moment):
        return [
            Case.objects.filter(reported_at__gte=moment)
            .order_by(*order)
            .values("id", "number", "reported_at")
        ]

    since = T0 - dt.timedelta(hours=1)
    expected = list(build(since)[0])
    assert len(expected) >= 7
    for size in (1, 3, 50):
        assert (
            _every_page(lambda: Listing.shaped(("test.listing",), build, (since,), seek=order), size)
            == expected
        )
    offset = Listing.shaped(("test.listing",), build, (since,), seek=order).paginate(limit=2, offset=3)
    assert offset["items"] == expected[3:5]


def test_a_listing_of_parts_reads_its_page_and_its_count_with_one_statement_each(
    personas, termite, django_assert_num_queries
):
    # Disjoint parts (as the case list's subtree and own cases): each part's rows and count come back from one
    # statement for all parts, ordered and counted as the ORM's part-by-part reads give them.
    for minute in range(9):
        report(personas, termite, now=T0 + dt.timedelta(minutes=minute))
    order = ("-reported_at", "-id")
    ids = sorted(Case.objects.values_list("pk", flat=True))
    middle = ids[len(ids) // 2]

    def build(split):
        cases = Case.objects.order_by(*order).values("id", "number", "reported_at")
        return [cases.filter(pk__lt=split), cases.filter(pk__gte=split), cases.filter(pk__lt=0)]

    expected = list(Case.objects.order_by(*order).values("id", "number", "reported_at"))
    for size in (2, 4, 50):
        listing = Listing.shaped(("test.parts",), build, (middle,), seek=order)
        listing.paginate(limit=size)  # compiled once
        pages = _every_page(
            lambda: Listing.shaped(("test.parts",), build, (middle,), seek=order),
            size,
            # A read with a value bound into it is read, then counted (``rows_and_counts`` says why).
            statements=lambda after, size=size: 1 if after is None and size >= len(expected) else 2,
            checked_by=django_assert_num_queries,
        )
        assert pages == expected, size
        offset = Listing.shaped(("test.parts",), build, (middle,), seek=order).paginate(limit=2, offset=3)
        assert offset["items"] == expected[3:5] and offset["count"] == len(expected)
    # The same parts with no value bound (a list's default view): the first page carries its count.
    fixed = lambda: build(middle)  # noqa: E731
    for size in (2, 4, 50):
        Listing.shaped(("test.parts.fixed",), fixed, (), seek=order).paginate(limit=size)  # compiled once
        pages = _every_page(
            lambda: Listing.shaped(("test.parts.fixed",), fixed, (), seek=order),
            size,
            statements=lambda after: 1 if after is None else 2,
            checked_by=django_assert_num_queries,
        )
        assert pages == expected, size


def test_bound_counts_count_each_read_with_one_statement(personas, termite, django_assert_num_queries):
    from kangle.core.rawrows import bound_counts

    for minute in range(6):
        report(personas, termite, now=T0 + dt.timedelta(minutes=minute))
    since = T0 + dt.timedelta(minutes=2)

    def build(moment):
        return [
            Case.objects.filter(reported_at__gte=moment).values("pk"),
            Case.objects.filter(reported_at__lt=moment).values("pk"),
            Case.objects.none().values("pk"),
        ]

    expected = [
        Case.objects.filter(reported_at__gte=since).count(),
        Case.objects.filter(reported_at__lt=since).count(),
    ]
    assert expected == [4, 2]
    assert bound_counts(("test.counts",), build, (since,)) == [*expected, 0]  # compiled once
    with django_assert_num_queries(1):
        assert bound_counts(("test.counts",), build, (since,)) == [*expected, 0]
    later = T0 + dt.timedelta(minutes=5)
    assert bound_counts(("test.counts",), build, (later,)) == [1, 5, 0]
    # Values that cannot be bound: counted through the ORM, the same figures.
    flags = lambda flag: [Case.objects.filter(closed_at__isnull=flag).values("pk")]  # noqa: E731
    assert bound_counts(("test.counts.orm",), flags, (True,)) == [
        Case.objects.filter(closed_at__isnull=True).count()
    ]


def test_a_listing_whose_values_cannot_be_bound_runs_through_the_orm(personas, termite):
    report(personas, termite)
    build = lambda flag: [Case.objects.filter(closed_at__isnull=flag).order_by("-id").values("id")]  # noqa: E731
    page = Listing.shaped(("test.orm",), build, (True,), seek=("-id",)).paginate(limit=10)
    assert page["items"] == list(build(True)[0]) and page["count"] == len(page["items"]) > 0


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(rawrows, "BOUND_KEPT", 3)
    monkeypatch.setattr(rawrows, "_BOUND", {})
    for index in range(10):
        bound_reads(("test.bounded", index), lambda pk: [Case.objects.filter(pk=pk).values("pk")], (1,))
        assert len(rawrows._BOUND) <= 3


def test_a_first_page_that_is_not_full_is_its_own_count(personas, termite, django_assert_num_queries):
    from kangle.core.pagination import PageInfo

    for minute in range(5):
        report(personas, termite, now=T0 + dt.timedelta(minutes=minute))
    order = ("-reported_at", "-id")

    def build():
        return [Case.objects.order_by(*order).values("id", "reported_at")]

    total = Case.objects.count()
    Listing.shaped(("test.short",), build, (), seek=order).paginate(limit=total + 1)  # compiled once
    Listing.shaped(("test.short",), build, (), seek=order).paginate(limit=2)
    with django_assert_num_queries(1):  # the page alone
        short = Listing.shaped(("test.short",), build, (), seek=order).paginate(limit=total + 1)
    assert short["count"] == total and len(short["items"]) == total and short["next"] is None
    with django_assert_num_queries(1):  # a full first page: the page and the count in one statement
        full = Listing.shaped(("test.short",), build, (), seek=order).paginate(limit=2)
    assert full["count"] == total and len(full["items"]) == 2 and full["next"]
    with django_assert_num_queries(2):  # a later page: the page, then the count
        later = Listing.shaped(("test.short",), build, (), seek=order).paginate(limit=2, after=full["next"])
    assert later["count"] == total and len(later["items"]) == 2
    # Nothing at all: no row to carry the count, and none to count.
    none = Listing.shaped(
        ("test.none",), lambda: [Case.objects.filter(pk__lt=0).values("id")], (), seek=("id",)
    )
    assert none.paginate(limit=2) == {"items": [], "count": 0, "count_capped": False, "next": None}

    one = lambda: Case.objects.order_by(*order).values("id")  # noqa: E731
    PageInfo.shaped(("test.page",), one, (), "1", 2)  # compiled once
    with django_assert_num_queries(1):  # a full first page: the page and the count in one statement
        page, rows = PageInfo.shaped(("test.page",), one, (), "1", 2)
    assert (page.count, page.capped, len(rows)) == (total, False, 2)
    for raw, size in (("1", total + 1), (None, total + 1), ("1", 2), ("2", 2), ("99", 2)):
        page, rows = PageInfo.shaped(("test.page",), one, (), raw, size)
        expected = PageInfo.of(one(), raw, size)
        assert (page.number, page.count, page.capped) == (expected.number, expected.count, expected.capped)
        assert rows == list(one()[expected.start : expected.start + size]), (raw, size)


def test_a_first_page_with_a_part_that_reads_nothing_is_read_and_counted_as_before(
    personas, termite, django_assert_num_queries
):
    # A part that is ``none()`` has no SQL to ride along with: the page and the count are read apart.
    for minute in range(4):
        report(personas, termite, now=T0 + dt.timedelta(minutes=minute))
    order = ("-reported_at", "-id")

    def build():
        cases = Case.objects.order_by(*order).values("id", "reported_at")
        return [cases, Case.objects.none().values("id", "reported_at")]

    expected = list(Case.objects.order_by(*order).values("id", "reported_at"))
    Listing.shaped(("test.none.part",), build, (), seek=order).paginate(limit=2)  # compiled once
    with django_assert_num_queries(2):  # the page, then the count
        page = Listing.shaped(("test.none.part",), build, (), seek=order).paginate(limit=2)
    assert page["items"] == expected[:2] and (page["count"], page["count_capped"]) == (len(expected), False)


def test_a_capped_count_rides_along_with_the_first_page(
    personas, termite, monkeypatch, django_assert_num_queries
):
    from kangle.core import pagination
    from kangle.core.pagination import PageInfo

    for minute in range(5):
        report(personas, termite, now=T0 + dt.timedelta(minutes=minute))
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    order = ("-reported_at", "-id")
    build = lambda: [Case.objects.order_by(*order).values("id", "reported_at")]  # noqa: E731
    Listing.shaped(("test.capped",), build, (), seek=order).paginate(limit=2)  # compiled once, at this cap
    with django_assert_num_queries(1):
        page = Listing.shaped(("test.capped",), build, (), seek=order).paginate(limit=2)
    assert (page["count"], page["count_capped"], len(page["items"])) == (3, True, 2)
    one = lambda: Case.objects.order_by(*order).values("id")  # noqa: E731
    PageInfo.shaped(("test.capped.page",), one, (), "1", 2)
    with django_assert_num_queries(1):
        info, rows = PageInfo.shaped(("test.capped.page",), one, (), "1", 2)
    assert (info.count, info.capped, len(rows)) == (3, True, 2)


def test_reads_of_other_columns_come_together_each_in_its_own_order(
    personas, termite, django_assert_num_queries
):
    """``rows_of_each``: a case's events newest first, its clocks by deadline, nothing (a read of no rows and
    one of none()), the case's own row — each read's rows as it gives them alone, in its order, with one
    statement; columns of every type (text, integers, booleans, moments) keep theirs."""
    from kangle.cases.models import CaseMilestone

    case = report(personas, termite, now=T0)
    other = report(personas, termite, now=T0 + dt.timedelta(hours=1))
    for target in (case, other):
        for kind in ("accepted", "dispatched"):
            CaseEvent.objects.create(case=target, kind=kind, at=T0 + dt.timedelta(minutes=5), note=kind)
    CaseEvent.objects.filter(case=case).update(at=T0 + dt.timedelta(minutes=5))  # ties: the id decides

    def build(case_id, after):
        return [
            CaseEvent.objects.filter(case_id=case_id, at__gte=after)
            .order_by("-at", "-id")
            .values("id", "kind", "at", "public"),
            CaseMilestone.objects.filter(case_id=case_id)
            .order_by("-deadline", "-milestone__code")
            .values("milestone__code", "deadline"),
            CaseEvent.objects.filter(case_id=case_id, kind="no such kind").values("id", "note"),
            Case.objects.none().values("id"),
            Case.objects.filter(pk=case_id).values("number", "reported_at", "rework_count"),
        ]

    for target in (case, other):
        values = (target.pk, T0 - dt.timedelta(days=1))
        reads = bound_reads(("test.each",), build, values)
        expected = [list(query) for query in build(*values)]
        assert expected[0] and expected[1] and not expected[2], "the comparison needs rows and an empty read"
        assert len(expected[0]) > 1 and len(expected[1]) > 1, "an order needs two rows at least"
        with django_assert_num_queries(1):
            found = rawrows.rows_of_each([(read, values) for read in reads], together=True)
        assert found == expected
        # Newest first, the id deciding ties: not the order the rows were written in.
        assert found[0] == sorted(found[0], key=lambda row: (row["at"], row["id"]), reverse=True)
        assert [row["id"] for row in found[0]] != sorted(row["id"] for row in found[0])
        assert isinstance(found[4][0]["reported_at"], dt.datetime) and found[4][0]["reported_at"].tzinfo


def test_reads_whose_column_types_are_unknown_are_read_apart(personas, termite, django_assert_num_queries):
    """A read with a column of no known database type cannot have its empty columns cast: each read then
    runs alone, with the same rows."""
    case = report(personas, termite, now=T0)

    def build(case_id):
        return [
            CaseEvent.objects.filter(case_id=case_id).order_by("id").values("id", "kind"),
            Case.objects.filter(pk=case_id).values("number"),
        ]

    reads = bound_reads(("test.each.untyped",), build, (case.pk,))
    reads[1].types = None
    with django_assert_num_queries(2):
        found = rawrows.rows_of_each([(read, (case.pk,)) for read in reads], together=True)
    assert found == [list(query) for query in build(case.pk)]


def test_reads_come_together_where_a_statement_is_a_round_trip(personas, termite, django_assert_num_queries):
    """By default the reads share a statement on a database server, and run apart on SQLite, where a
    statement is a call within the process."""
    case = report(personas, termite, now=T0)

    def build(case_id):
        return [
            CaseEvent.objects.filter(case_id=case_id).order_by("id").values("id", "kind"),
            Case.objects.filter(pk=case_id).values("number"),
        ]

    reads = bound_reads(("test.each.default",), build, (case.pk,))
    with django_assert_num_queries(2 if connection.vendor == "sqlite" else 1):
        found = rawrows.rows_of_each([(read, (case.pk,)) for read in reads])
    assert found == [list(query) for query in build(case.pk)]


def test_drop_downs_come_together_as_bound_pairs_gives_each(personas, termite, django_assert_num_queries):
    """``pairs_of_each``: the (value, label) pairs of several drop-downs, each as ``bound_pairs`` gives it
    alone, with one statement on a database server; a read that cannot be bound still comes through the ORM."""
    from kangle.orgs.models import OrgUnit

    asked = {
        "categories": (
            ("test.pairs.categories",),
            lambda: CaseCategory.objects.order_by("code").values("code", "name"),
        ),
        "units": (("test.pairs.units",), lambda: OrgUnit.objects.order_by("-path").values("pk", "name")),
        "nothing": (("test.pairs.nothing",), lambda: Case.objects.none().values("pk", "number")),
    }
    expected = {name: rawrows.bound_pairs(key, build) for name, (key, build) in asked.items()}
    assert expected["categories"] and expected["units"] and expected["nothing"] == []
    with django_assert_num_queries(2 if connection.vendor == "sqlite" else 1):
        assert rawrows.pairs_of_each(asked) == expected
    unbindable = {
        "units": (("test.pairs.unbindable",), lambda: OrgUnit.objects.order_by("?").values("pk", "name"))
    }
    rawrows._BOUND[(("test.pairs.unbindable",), (), "default")] = None  # as if it could not be bound
    assert sorted(rawrows.pairs_of_each(unbindable)["units"]) == sorted(expected["units"])
