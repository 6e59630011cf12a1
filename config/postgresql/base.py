"""Django's PostgreSQL backend: a health check with no round trip, and prepared statements.

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

Prepared statements: by default Django binds parameters on the client and
turns psycopg's preparing off, so the server parses and plans every
statement it is sent, every time: for the webhook's statement that was most
of the server's work, and for the task worker's apply of an event, half of
it. config/settings.py sets Django's `server_side_binding` option, and with
it this backend lets psycopg prepare what a connection sends often: once it
has sent a statement 5 times (`PREPARE_THRESHOLD`, psycopg's own default),
the server plans it once for that connection; psycopg keeps the last 100
(`prepared_max`).
Only a statement of one command can be prepared, so SQL of several commands
must not be sent that often (migrations send theirs once). A pooler in
transaction mode (PgBouncer) must then keep prepared statements per client
(PgBouncer 1.21+ `max_prepared_statements`); an OPTIONS `prepare_threshold`
of None turns preparing off again.
"""

import select

from django.db.backends.postgresql import base
from psycopg import OperationalError

PREPARE_THRESHOLD = 5


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        options = self.settings_dict["OPTIONS"]
        if options.get("server_side_binding") is True and "prepare_threshold" not in options:
            params["prepare_threshold"] = PREPARE_THRESHOLD
        return params

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
