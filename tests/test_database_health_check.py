"""config/postgresql: the health check of a persistent connection, against a real PostgreSQL.

Each test opens its own connection (a second DatabaseWrapper on the test
database), so terminating it leaves the test's own connection alone.
"""

import select

import pytest
from django.conf import settings
from django.db import connection, connections

from config.postgresql.base import DatabaseWrapper
from tests.postgres import postgres_only, until


@pytest.fixture
def probe():
    wrapper = DatabaseWrapper({**connection.settings_dict, "CONN_HEALTH_CHECKS": True}, alias="probe")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def last_query_of(backend_pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [backend_pid])
        return cursor.fetchone()[0]


@postgres_only
@pytest.mark.django_db
def test_a_quiet_connection_is_usable_without_a_query(probe):
    with probe.cursor() as cursor:
        cursor.execute("SELECT 'the last query' AS marker")
    pid = probe.connection.info.backend_pid

    assert probe.is_usable()
    assert last_query_of(pid) == "SELECT 'the last query' AS marker"  # no SELECT 1 was sent


@postgres_only
@pytest.mark.django_db
def test_a_connection_the_server_ended_is_not_usable_and_the_next_request_reconnects(probe):
    pid = probe.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert until(lambda: not backend_exists(pid))

    assert probe.is_usable() is False
    # What Django does before a request's first query: close the dead connection, open another.
    probe.health_check_done = False
    probe.close_if_health_check_failed()
    with probe.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert probe.connection.info.backend_pid != pid


def backend_exists(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


@postgres_only
def test_a_connection_with_something_to_read_is_asked_with_a_query(transactional_db, probe):
    with probe.cursor() as cursor:
        cursor.execute("LISTEN health_check_probe")
    pid = probe.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify('health_check_probe', 'hello')")

    assert until(lambda: probe.connection.pgconn.socket and readable(probe))
    assert probe.is_usable()  # a notification is not a failure
    assert last_query_of(pid) == "SELECT 1"


@postgres_only
@pytest.mark.django_db
def test_a_closed_connection_is_not_usable(probe):
    probe.connection.close()

    assert probe.is_usable() is False


def readable(wrapper: DatabaseWrapper) -> bool:
    poller = select.poll()
    poller.register(wrapper.connection.pgconn.socket, select.POLLIN)
    return bool(poller.poll(0))


@postgres_only
def test_postgresql_urls_use_this_backend():
    assert settings.DATABASES["default"]["ENGINE"] == "config.postgresql"
    assert isinstance(connections["default"], DatabaseWrapper)
