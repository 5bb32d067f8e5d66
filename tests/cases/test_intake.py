"""Case creation: numbers from the database's sequence, categories kept per process until they change."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.helpers import RESIDENT_PHONE, T0, report
from kangle.cases import reference, reference_cache
from kangle.cases.models import Case, CaseMilestone
from kangle.cases.services import case_number_next


def _create(api, personas, *, address="康健路 9 号", category="termite"):
    return api.post(
        "/cases/",
        {
            "category": category,
            "org": personas.tree.estate_a.code,
            "title": "飞蚁",
            "phone": RESIDENT_PHONE,
            "address": address,
        },
    )


def test_numbers_follow_each_other_and_carry_the_local_date(personas, termite):
    first, second = report(personas, termite, address="A 1"), report(personas, termite, address="A 2")
    assert first.number.startswith("MQ260610") and second.number.startswith("MQ260610")
    assert int(second.number[8:]) == int(first.number[8:]) + 1
    assert Case.objects.get(pk=first.pk).number == first.number


def test_a_number_is_never_handed_out_twice_even_when_its_case_is_rolled_back(personas, termite):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        taken = case_number_next(T0)
        raise RuntimeError
    after = report(personas, termite)
    if connection.vendor == "postgresql":  # a sequence is not transactional: the value is gone
        assert int(after.number[8:]) > int(taken[8:])
    else:  # SQLite's counter rolls back with the transaction that took it, and nothing used it
        assert int(after.number[8:]) >= int(taken[8:])
    assert Case.objects.filter(number=after.number).count() == 1


def test_second_creation_reads_no_category_policy_or_milestone_row(client, api, personas, termite):
    client.force_login(personas.secretary_a)
    assert _create(api, personas, address="A 1").status_code == 201
    with CaptureQueriesContext(connection) as queries:
        created = _create(api, personas, address="A 2")
    assert created.status_code == 201
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    for table in ("cases_casecategory", "cases_slapolicy", "cases_milestone", "cases_servicequestion"):
        assert not [sql for sql in reads if f'FROM "{table}"' in sql], table
    number = created.json()["number"]
    assert (
        CaseMilestone.objects.filter(case__number=number).count()
        == termite.policy.milestones.filter(on_rework=False).count()
    )


def test_retiring_a_category_reaches_the_cached_copy(client, api, personas, termite):
    client.force_login(personas.secretary_a)
    assert _create(api, personas, address="A 1").status_code == 201
    reference.category_delete(actor=None, category=termite)  # in use: retired
    refused = _create(api, personas, address="A 2")
    assert refused.status_code == 400 and refused.json()["field"] == "category"


def test_a_change_committed_by_another_process_drops_this_process_copy(client, api, personas, termite):
    client.force_login(personas.secretary_a)
    assert _create(api, personas, address="A 1").status_code == 201
    # Another process retires the category and bumps the version: only the database tells this one.
    type(termite).objects.filter(pk=termite.pk).update(is_active=False)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_reference_version SET value = value + 1 WHERE id = 1")
    refused = _create(api, personas, address="A 2")
    assert refused.status_code == 400 and refused.json()["field"] == "category"


def test_an_unknown_category_is_refused_naming_the_field(client, api, personas, termite):
    client.force_login(personas.secretary_a)
    refused = _create(api, personas, category="no-such-thing")
    assert refused.status_code == 400 and refused.json()["field"] == "category"
    assert reference_cache.category_for_intake("no-such-thing") is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_creation_hands_out_unique_numbers(personas, termite):
    barrier = threading.Barrier(6)
    numbers, failures = [], []

    def create(n: int):
        try:
            barrier.wait()
            for i in range(4):
                numbers.append(report(personas, termite, address=f"并发 {n}-{i}").number)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(numbers) == 24 and len(set(numbers)) == 24
    assert Case.objects.filter(number__in=numbers).count() == 24
