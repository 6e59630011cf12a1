"""Django's PostgreSQL backend: a health check with no round trip, and cursors for prepared statements.

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

Django binds parameters on the client (the simple query protocol), so the
server parses and plans every statement it is sent, every time. For a
statement sent many times over, such as the webhook's, that planning is a
large share of the server's work. `prepared_statement_cursor()` gives a
cursor that binds on the server (Django's ServerBindingCursor, psycopg's
own Cursor), and the connection prepares at once what such a cursor sends
(`prepare_threshold` 0; Django turns preparing off, and its own cursors,
binding on the client, never prepare): the server parses and plans a
statement once per connection, and psycopg keeps the last 100 of them
(`prepared_max`). Otherwise it is Django's cursor: its errors, query log and
execute wrappers are Django's. Only for statements sent over and over (each
costs the server a prepared statement), one statement each, parameters
typed where the server cannot infer them. (A pooler in transaction mode, such as
PgBouncer's, must then be one that keeps prepared statements apart per
client; this project talks to PostgreSQL directly.)
"""

import select
from contextlib import suppress

from django.db.backends.postgresql import base, operations
from psycopg import DataError, OperationalError


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        if isinstance(cursor, base.ServerBindingCursor):  # a prepared statement: psycopg keeps no text
            with suppress(DataError):
                return self.compose_sql(sql, params)
            return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        if "prepare_threshold" not in self.settings_dict["OPTIONS"]:
            params["prepare_threshold"] = 0  # what prepared_statement_cursor() sends, at once
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

    def prepared_statement_cursor(self):
        """A cursor like `cursor()`'s but binding on the server, so psycopg prepares what it sends often."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(base.ServerBindingCursor(self.connection))
