"""PostgreSQL's per-request health check (``kangle.core.postgres``): a busy connection with nothing to read is
trusted without a round trip; a connection the server has ended is replaced before a request's first
statement, so the request answers as if nothing had happened."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.test import RequestFactory

from kangle.core.postgres import base as postgres

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pg():
    wrapper = connections["default"]
    if wrapper.vendor != "postgresql":
        pytest.skip("PostgreSQL's backend")
    assert type(wrapper) is postgres.DatabaseWrapper
    wrapper.ensure_connection()
    assert wrapper.health_check_enabled
    return wrapper


@pytest.fixture
def server_asked(monkeypatch):
    """Each time Django's own check asks the server (``SELECT 1``)."""
    asked = []
    original = postgres.DatabaseWrapper.is_usable

    def is_usable(self):
        asked.append(self.alias)
        return original(self)

    monkeypatch.setattr(postgres.DatabaseWrapper, "is_usable", is_usable)
    return asked


def _request_ends_and_next_one_queries(wrapper) -> int:
    """What Django does between two requests (``close_old_connections``), then the next request's first
    statement; the backend's process id that answered it."""
    wrapper.close_if_unusable_or_obsolete()
    assert wrapper.health_check_done is False
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _server_ends(wrapper) -> int:
    """Ends ``wrapper``'s session from another connection, as a restart or an operator would, and waits until
    the server's goodbye has reached its socket."""
    pid = wrapper.connection.info.backend_pid
    other = wrapper.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()
    deadline = time.monotonic() + 10
    while postgres.quiet(wrapper.connection):
        assert time.monotonic() < deadline, "the ended session's socket never turned readable"
        time.sleep(0.01)
    return pid


def test_a_busy_connection_with_nothing_to_read_is_trusted_without_asking_the_server(pg, server_asked):
    first = _request_ends_and_next_one_queries(pg)
    server_asked.clear()  # the connection may have been opened longer ago than the window
    assert [_request_ends_and_next_one_queries(pg) for _ in range(3)] == [first] * 3
    assert server_asked == []


def test_a_connection_unchecked_for_longer_than_the_window_is_asked(pg, server_asked, monkeypatch):
    first = _request_ends_and_next_one_queries(pg)
    monkeypatch.setattr(postgres, "QUIET_WINDOW", 0.0)
    server_asked.clear()
    assert _request_ends_and_next_one_queries(pg) == first
    assert server_asked == ["default"]


def test_a_connection_the_server_ended_is_replaced_before_the_next_statement(pg, server_asked):
    _request_ends_and_next_one_queries(pg)
    ended = _server_ends(pg)
    server_asked.clear()
    assert _request_ends_and_next_one_queries(pg) not in {ended, None}
    assert server_asked == ["default"]  # asked because the socket had something to say


def test_a_request_after_the_server_ended_the_connection_answers(pg):
    """The whole request cycle, as a web server drives it (the test client leaves out the boundaries)."""
    app = WSGIHandler()
    statuses = []

    def get() -> bytes:
        environ = RequestFactory().get("/healthz").environ  # a new one each time: its body is read once
        return b"".join(app(environ, lambda status, headers: statuses.append(status)))

    assert get() == b'{"ok": true}'
    ended = _server_ends(pg)
    assert get() == b'{"ok": true}'
    assert statuses == ["200 OK", "200 OK"]
    assert pg.connection.info.backend_pid != ended


def test_what_counts_as_quiet():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's driver")
    params = {
        key: value for key, value in connection.get_connection_params().items() if key != "cursor_factory"
    }
    with psycopg.connect(**params, autocommit=True) as idle:
        assert postgres.quiet(idle)
    assert not postgres.quiet(idle)  # closed
    with psycopg.connect(**params) as busy:  # not autocommit: the first statement opens a transaction
        busy.execute("SELECT 1")
        assert not postgres.quiet(busy)
        busy.rollback()
        assert postgres.quiet(busy)
        busy.pgconn.send_query(b"SELECT pg_sleep(0.05)")  # a result on its way
        assert not postgres.quiet(busy)
        busy.close()  # leaves the result unread
