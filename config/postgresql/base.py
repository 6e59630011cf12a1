"""Django's PostgreSQL backend, with a health check that makes no round trip to a quiet connection.

With CONN_HEALTH_CHECKS a persistent connection is checked before its first
use in each request. Django's check sends `SELECT 1` and waits for the
answer: for a request that makes one query (a webhook's store) that doubles
its round trips, and the server's share of the work.

An idle connection has nothing to read unless the server has said something
unasked: a restart, a failover or pg_terminate_backend sends a termination
notice and closes the socket (and a proxy that drops the connection closes
it). So this check first asks the kernel, without waiting, whether the
socket has anything to read. Nothing: the connection is as the last request
left it, usable. Anything (a termination, a close, a notification): Django's
own `SELECT 1` decides. A quiet connection costs one poll() system call
instead of a round trip. Neither check sees a link cut silently (no FIN
ever arrives) without waiting for TCP to give up.
"""

import select

from django.db.backends.postgresql import base
from psycopg import OperationalError


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            poller = select.poll()
            poller.register(self.connection.pgconn.socket, select.POLLIN)
            quiet = not poller.poll(0)
        except (OperationalError, OSError):
            return False
        return quiet or super().is_usable()
