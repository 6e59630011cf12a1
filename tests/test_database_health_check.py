"""Persistent PostgreSQL connections (CONN_MAX_AGE) are health-checked: a dead one is replaced.

Each test opens its own connection (a second DatabaseWrapper on the test
database), so terminating it leaves the test's own connection alone.
"""

import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper

from tests.postgres import postgres_only, until


@pytest.fixture
def probe():
    wrapper = DatabaseWrapper({**connection.settings_dict, "CONN_HEALTH_CHECKS": True}, alias="probe")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def backend_exists(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
        cursor.execute("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


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


@postgres_only
@pytest.mark.django_db
def test_a_closed_connection_is_not_usable(probe):
    probe.connection.close()

    assert probe.is_usable() is False


@postgres_only
def test_postgresql_urls_use_djangos_own_backend_with_health_checks():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert isinstance(connections["default"], DatabaseWrapper)
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
