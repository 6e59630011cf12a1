"""Marking tests that need PostgreSQL (row locks, concurrent transactions).

    from tests.postgres import postgres_only

    @postgres_only
    def test_...(transactional_db): ...

The test carries the `postgres` marker (so `-m postgres` selects it) and is
skipped when the configured database is not PostgreSQL (SQLite has no row
locks to test). In CI (FAIL_ON_SKIP=1, PostgreSQL) such a skip fails the run.
"""

import pytest
from django.db import connection


def database_is_postgres() -> bool:
    return connection.vendor == "postgresql"


def postgres_only(test):
    skip = pytest.mark.skipif(
        not database_is_postgres(), reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"
    )
    return pytest.mark.postgres(skip(test))
