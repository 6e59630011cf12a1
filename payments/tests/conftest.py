import pytest

from shop.catalog.tests.factories import BookFactory


@pytest.fixture
def book(db):
    return BookFactory(title="The Art of Doing Science and Engineering", slug="hamming", price_amount=2300)


@pytest.fixture
def emulator_client(stripe_emulator):
    """A Stripe client on the emulator, for reading what Stripe holds (not through our code)."""
    from payments.stripe_client import stripe_client

    return stripe_client()


TRANSACTION_CONTROL = (
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE SAVEPOINT",
    "ROLLBACK TO SAVEPOINT",
)


@pytest.fixture
def assert_max_queries():
    """Like django_assert_max_num_queries, but not counting transaction control
    (SQLite logs BEGIN/COMMIT as queries; PostgreSQL does not; a test's own
    transaction adds SAVEPOINTs): only statements that read or write data."""
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    @contextmanager
    def check(limit: int):
        with CaptureQueriesContext(connection) as context:
            yield context
        statements = [
            q["sql"] for q in context.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)
        ]
        assert len(statements) <= limit, f"{len(statements)} queries (limit {limit}):\n" + "\n".join(
            statements
        )

    return check
