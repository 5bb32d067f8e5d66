"""The bulk data generators that write rows with raw SQL or COPY, run at a tiny scale.

They name their columns by hand, so a column added to a model would otherwise break them only at the next
benchmark run (or, worse, load rows the product never writes). Each test checks the rows the generator
wrote read back through the ORM as the product would write them.

They need PostgreSQL (generate_series, COPY, session_replication_role) like the benchmarks themselves.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from kangle.cases.defaults import seed as seed_case_categories
from kangle.cases.models import Case, CaseCategory, CaseStatus, Milestone, SlaPolicy
from kangle.core.timeutil import local
from kangle.orgs.models import OrgKind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = dt.datetime(2026, 6, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_bulk_cases_sql_writes_cases_and_their_clocks(personas):
    from kangle.demo.cases import bulk_cases_sql

    # Transactional tests flush the migration's case categories; seeding again is idempotent.
    seed_case_categories(SlaPolicy, Milestone, CaseCategory)
    made = bulk_cases_sql(count=6, open_share=0.5, now=NOW, chunk=4)
    assert made == 6
    cases = list(Case.objects.filter(number__startswith="MB").select_related("org", "category"))
    assert len(cases) == 6
    for case in cases:
        assert case.status in CaseStatus.values
        assert case.category.code == "termite"
        assert case.org.kind in {OrgKind.COMMUNITY, OrgKind.ESTATE}
        # Rework milestones start at a reopening, not at the report.
        assert case.milestones.count() == case.category.policy.milestones.filter(on_rework=False).count() > 0


def test_bulk_cases_sql_writes_each_case_its_timeline_up_to_its_status(personas):
    from kangle.cases.models import CaseEvent, EventKind
    from kangle.demo.cases import bulk_cases_sql

    seed_case_categories(SlaPolicy, Milestone, CaseCategory)
    bulk_cases_sql(count=8, open_share=0.5, now=NOW, chunk=3, timelines=True)
    cases = list(Case.objects.filter(number__startswith="MB"))
    assert {case.status for case in cases} == {CaseStatus.BOOKED, CaseStatus.CLOSED}
    for case in cases:
        events = list(CaseEvent.objects.filter(case=case).order_by("at", "id"))
        assert len(events) == (9 if case.status == CaseStatus.CLOSED else 5)
        assert events[0].kind == EventKind.REPORTED and events[0].at == case.reported_at
        assert events[-1].to_status == case.status
        if case.status == CaseStatus.CLOSED:
            assert events[-1].at == case.closed_at
        assert all(event.at <= NOW for event in events)
        # One step leads to the next: each event starts from the status the one before it reached.
        steps = zip(events, events[1:], strict=False)
        assert all(later.from_status == earlier.to_status for earlier, later in steps)
        for event in events:
            assert event.kind in EventKind.values
            assert event.to_status in CaseStatus.values
            assert event.public


def test_the_points_ledger_bench_clones_members_and_copies_entries(personas):
    from bench import points_ledger

    from kangle.members.models import Member
    from kangle.points import services
    from kangle.points.models import Balance, LedgerEntry
    from points.conftest import T0, make_member

    tree = personas.tree
    rule = services.rule_create(
        actor=personas.street_admin,
        street=tree.street,
        effective_from=T0 - dt.timedelta(days=90),
        now=T0 - dt.timedelta(days=90),
    )
    make_member(tree.microgrid_a, community=tree.community_a, microgrid=tree.microgrid_a)
    points_ledger.ensure_members(5)
    assert Member.objects.count() == 5
    points_ledger.load_entries(12, seed=1)
    entries = list(LedgerEntry.objects.filter(source_type="bench").select_related("member__org"))
    assert len(entries) == 12
    for entry in entries:
        assert entry.points == rule.points_for(entry.difficulty, entry.duration_minutes)
        assert entry.occurred_on == local(entry.occurred_at).date()
        assert entry.org_path == entry.member.org.path
        assert entry.grid_id == tree.grid_a.pk
    assert sum(Balance.objects.values_list("total", flat=True)) == sum(e.points for e in entries)
    with connection.cursor() as cursor:  # the indexes dropped for the load are back
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
            [LedgerEntry._meta.db_table, "%_pkey"],
        )
        assert cursor.fetchone()[0] > 0


def test_the_prevention_bench_copies_warnings_as_the_product_writes_them(personas):
    from bench import prevention_analysis

    from kangle.prevention.models import Warning, grid_cell

    assert prevention_analysis.fill(8, seed=3) == 8
    warnings = list(Warning.objects.select_related("org"))
    assert len(warnings) == 8
    for warning in warnings:
        assert warning.occurred_on == local(warning.occurred_at).date()
        assert warning.cell_lat == grid_cell(warning.latitude)
        assert warning.cell_lng == grid_cell(warning.longitude)
        assert warning.org.kind == OrgKind.ESTATE and warning.org_path == warning.org.path
