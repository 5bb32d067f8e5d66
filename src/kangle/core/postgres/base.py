"""Django's PostgreSQL backend, whose health check on a busy connection reads its socket instead of asking
the server.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first statement of every request that
reuses a connection, so that a request survives a restarted database: one round trip a request, a quarter
of a bare one-query view on the same machine and more where the database is on another host. When a server
ends a connection (a restart, a fast or immediate shutdown, ``pg_terminate_backend``, a crash) it closes the
socket, usually after an error message, so the idle connection's socket turns readable; an idle connection
otherwise never has anything to read, as nothing here listens for notifications. The check therefore asks
the server only when the socket has something to read, when the connection is not idle, or when it has not
been checked for ``QUIET_WINDOW`` seconds: a connection that went quiet at the far end without a word (the
address moved to another host, a cable pulled) then still costs at most the requests of that window, which
would have failed with the database anyway.
"""

from __future__ import annotations

import select
import time

from django.db.backends.postgresql import base
from psycopg.pq import ConnStatus, TransactionStatus

QUIET_WINDOW = 1.0  # seconds since the connection's last check or opening

# Not on every platform (Windows has no poll): without it every check asks the server, as Django's does.
_POLL = getattr(select, "poll", None)


def quiet(connection) -> bool:
    """Whether a psycopg connection looks alive without asking the server: open, idle (no transaction, no
    result pending) and with nothing to read on its socket."""
    if _POLL is None or connection.closed or connection.broken:
        return False
    pgconn = connection.pgconn
    if pgconn.status != ConnStatus.OK or pgconn.transaction_status != TransactionStatus.IDLE:
        return False
    poller = _POLL()
    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    checked_at = float("-inf")  # time.monotonic() of the last check or opening

    def connect(self):
        super().connect()
        self.checked_at = time.monotonic()

    def close_if_health_check_failed(self):
        if self.health_check_done or self.connection is None or not self.health_check_enabled or self.pool:
            return super().close_if_health_check_failed()
        now = time.monotonic()
        recent, self.checked_at = now - self.checked_at < QUIET_WINDOW, now
        if recent and quiet(self.connection):
            self.health_check_done = True
            return None
        return super().close_if_health_check_failed()
