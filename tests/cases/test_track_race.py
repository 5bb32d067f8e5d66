"""Thirty parallel guesses on the public tracking page: exactly five are checked (PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from cases.helpers import report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_guesses_cannot_overtake_the_limit(personas, termite):
    case = report(personas, termite)
    barrier = threading.Barrier(30)
    statuses = []

    def guess(n: int):
        try:
            barrier.wait()
            answer = Client(REMOTE_ADDR="10.0.0.9").post(
                "/cases/track/", {"number": case.number, "suffix": f"{n:04d}"}
            )
            statuses.append(answer.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 30
    assert statuses.count(200) == 5 and statuses.count(429) == 25, sorted(statuses)
