"""`/healthz` for load balancers: 200 when the database answers, 503 JSON otherwise.

Within HEALTHZ_TIMEOUT_SECONDS (2 s) whatever the database does: refuses,
accepts and never answers, or stalls under connections already open. The
check never uses the request's own connection (one that stalls would hold
the worker): it opens a fresh one, in a thread of its own, with a short
connect timeout and TCP keepalive / tcp_user_timeout (PostgreSQL), runs
`SELECT 1` under a statement timeout and closes it. The view waits for that
thread at most the timeout; a check still waiting then has its socket shut,
so it ends too. Probes arriving together share one check, and a result is
reused for a second: a flood of probes opens at most one connection a second
per process. Exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT): probes
come over plain HTTP.
"""

import contextlib
import math
import os
import socket
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

RESULT_REUSED_SECONDS = 1.0


class DatabaseCheck:
    """One `SELECT 1` over a fresh connection, run in its own thread."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answered = False
        self.finished_at = 0.0
        self._lock = threading.Lock()  # the connection is closed, or shut, by one side at a time
        self._connection = None  # the driver's connection, once open
        wrapper = connections[DEFAULT_DB_ALIAS]
        self._backend, self._settings = type(wrapper), health_check_settings(wrapper.settings_dict)
        threading.Thread(target=self._run, name="healthz", daemon=True).start()

    def _run(self) -> None:
        database = self._backend(self._settings, alias="healthz")
        try:
            database.ensure_connection()
            with self._lock:
                self._connection = database.connection
            with database.cursor() as cursor:
                if database.vendor == "postgresql":
                    timeout_ms = int(settings.HEALTHZ_TIMEOUT_SECONDS * 1000)
                    cursor.execute(f"SET statement_timeout = {timeout_ms}")
                cursor.execute("SELECT 1")
            self.answered = True
        except Exception:  # any failure of the database or the link: not answering
            self.answered = False
        finally:
            with self._lock:
                self._connection = None
                with contextlib.suppress(Exception):  # a connection already broken: nothing left to close
                    database.close()
            self.finished_at = time.monotonic()
            self.done.set()

    def abandon(self) -> None:
        """Shut the check's socket, so a query waiting on a silent link ends now."""
        with self._lock:
            pgconn = getattr(self._connection, "pgconn", None)
            try:
                fd = pgconn.socket if pgconn is not None else -1
            except Exception:  # closed meanwhile
                fd = -1
            if fd < 0:
                return
            with socket.socket(fileno=os.dup(fd)) as link, contextlib.suppress(OSError):
                link.shutdown(socket.SHUT_RDWR)


def health_check_settings(settings_dict: dict) -> dict:
    """The database settings for a check's connection: PostgreSQL gives up within the timeout."""
    checked = {**settings_dict, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    if "postgresql" in settings_dict["ENGINE"]:
        timeout = settings.HEALTHZ_TIMEOUT_SECONDS
        checked["OPTIONS"] = {
            **settings_dict.get("OPTIONS", {}),
            "connect_timeout": max(2, math.ceil(timeout)),  # libpq counts whole seconds, at least 2
            "keepalives": 1,
            "keepalives_idle": 1,
            "keepalives_interval": 1,
            "keepalives_count": 2,
            "tcp_user_timeout": int(timeout * 1000),
        }
    return checked


_checks_lock = threading.Lock()
_last_check: DatabaseCheck | None = None


def database_answers() -> bool:
    """Whether the database answers a fresh connection's `SELECT 1` within HEALTHZ_TIMEOUT_SECONDS."""
    global _last_check
    with _checks_lock:
        check = _last_check
        reusable = check is not None and (
            not check.done.is_set() or time.monotonic() - check.finished_at < RESULT_REUSED_SECONDS
        )
        if not reusable:
            check = _last_check = DatabaseCheck()
    if check.done.wait(settings.HEALTHZ_TIMEOUT_SECONDS):
        return check.answered
    check.abandon()
    return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    if not database_answers():
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
