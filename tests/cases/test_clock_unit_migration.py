"""Upgrading a database whose clocks were started before they carried their case's unit: the migration copies
each case's unit to its clocks (cases 0014), then makes it required (0015), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases.helpers import report
from kangle.cases.models import Case, CaseMilestone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("cases", "0013_open_cases_by_unit")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_the_clocks_of_existing_cases_get_their_cases_unit(personas, termite):
    cases = [report(personas, termite), report(personas, termite)]
    # Two units, so the copy can be seen to take each case's own (the clocks still hold the first one's).
    Case.objects.filter(pk=cases[1].pk).update(org=personas.tree.estate_b)
    cases[1].refresh_from_db()
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("cases")
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            columns = [
                column.name
                for column in connection.introspection.get_table_description(cursor, "cases_casemilestone")
            ]
        assert "org_id" not in columns  # the database as the older version left it
    finally:
        _migrate(latest)
    for case in cases:
        units = set(CaseMilestone.objects.filter(case=case).values_list("org_id", flat=True))
        assert units == {case.org_id}
    assert cases[0].org_id != cases[1].org_id
