"""The one throttle: atomic counting, fixed windows, reset and refund; parallel hits on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from kangle.core import throttle
from kangle.core.models import Throttle

T0 = dt.datetime(2026, 5, 11, 1, 30, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)


@pytest.mark.django_db
def test_hits_up_to_the_limit_then_refuses_until_the_window_ends():
    results = [throttle.hit("t", "k", limit=3, window=WINDOW, now=T0) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert throttle.is_blocked("t", "k", limit=3, window=WINDOW, now=T0 + WINDOW - dt.timedelta(seconds=1))
    assert not throttle.is_blocked("t", "k", limit=3, window=WINDOW, now=T0 + WINDOW)
    # The first hit after the window starts a new one.
    assert throttle.hit("t", "k", limit=3, window=WINDOW, now=T0 + WINDOW)
    assert Throttle.objects.get().hits == 1


@pytest.mark.django_db
def test_scopes_and_keys_are_separate_and_keys_are_hashed():
    throttle.hit("a", "13812345678", limit=1, window=WINDOW, now=T0)
    assert throttle.hit("b", "13812345678", limit=1, window=WINDOW, now=T0)
    assert throttle.hit("a", "13812345679", limit=1, window=WINDOW, now=T0)
    assert not throttle.hit("a", "13812345678", limit=1, window=WINDOW, now=T0)
    assert not Throttle.objects.filter(key_hash__contains="1381234").exists()


@pytest.mark.django_db
def test_refund_and_reset():
    for _ in range(2):
        throttle.hit("t", "k", limit=2, window=WINDOW, now=T0)
    throttle.refund("t", "k")
    assert throttle.hit("t", "k", limit=2, window=WINDOW, now=T0)
    throttle.reset("t", "k")
    assert not Throttle.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_hits_let_exactly_the_limit_through():
    barrier = threading.Barrier(30)
    allowed = []

    def guess():
        try:
            barrier.wait()
            allowed.append(throttle.hit("race", "one-key", limit=5, window=WINDOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5 and len(allowed) == 30
    assert Throttle.objects.get(scope="race").hits == 30


@pytest.mark.django_db
def test_hit_all_passes_only_while_every_limit_holds():
    window = dt.timedelta(minutes=15)
    client = throttle.Limit("combined", "client:1", 3, window)
    number = throttle.Limit("combined", "number:A", 2, window)
    assert throttle.hit_all(client, number)
    assert throttle.hit_all(client, number)
    assert not throttle.hit_all(client, number)  # the number's limit (2) is used up
    other = throttle.Limit("combined", "number:B", 2, window)
    assert not throttle.hit_all(client, other)  # the client's fourth attempt: its limit (3) is used up
