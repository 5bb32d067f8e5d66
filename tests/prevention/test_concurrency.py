"""Two inspectors save a reading for the same point in the same round at the same moment (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from kangle.cases import defaults
from kangle.cases.models import CaseCategory, Milestone, SlaPolicy
from kangle.core.errors import UserError
from kangle.prevention import services
from kangle.prevention.models import Reading, Warning
from prevention.conftest import T0, make_point

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_readings_at_once_leave_exactly_one(personas):
    defaults.seed(SlaPolicy, Milestone, CaseCategory)
    point = make_point(personas)
    inspection_round = services.round_open(actor=personas.street_admin, org=personas.tree.street, now=T0)
    barrier = threading.Barrier(2)
    outcomes = []

    def save(actor):
        try:
            barrier.wait()
            services.reading_record(
                actor=actor,
                inspection_round=inspection_round,
                point=point,
                activity_found=True,
                bait_consumed_pct=40,
                now=T0,
            )
            outcomes.append("saved")
        except UserError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(user,)) for user in (personas.secretary_a, personas.area_admin)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate_reading", "saved"]
    assert Reading.objects.count() == 1 and Warning.objects.count() == 1
