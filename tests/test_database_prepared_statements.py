"""config/postgresql and settings: parameters bound by the server, statements sent often prepared.

psycopg prepares a statement once the connection has sent it
PREPARE_THRESHOLD times: the server then plans it once per connection. Django's query log
and exceptions are unchanged.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from config.postgresql.base import PREPARE_THRESHOLD
from payments.models import WebhookEvent
from payments.tests.events import payment_intent_event
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def doubled(number: int, *, alias: str = "doubled_for_the_test") -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::integer * 2 AS {alias}", [number])
        return cursor.fetchone()[0]


@postgres_only
@pytest.mark.django_db
def test_a_statement_is_prepared_once_sent_often_and_answers_as_before():
    answers = [doubled(number) for number in range(PREPARE_THRESHOLD)]
    assert not [s for s in prepared_statements() if "doubled_for_the_test" in s]

    answers += [doubled(number) for number in range(PREPARE_THRESHOLD, PREPARE_THRESHOLD + 2)]

    assert answers == [2 * number for number in range(PREPARE_THRESHOLD + 2)]
    (prepared,) = [s for s in prepared_statements() if "doubled_for_the_test" in s]
    assert "$1" in prepared  # bound by the server


@postgres_only
@pytest.mark.django_db
def test_the_query_log_and_errors_are_djangos():
    with CaptureQueriesContext(connection) as queries:
        doubled(7, alias="logged_for_the_test")  # its own text: the test above counts its statement's uses
    assert [q["sql"] for q in queries] == ["SELECT 7::integer * 2 AS logged_for_the_test"]

    # Django's IntegrityError, not psycopg's NotNullViolation
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO payments_webhookevent (stripe_event_id) VALUES (%s)", [None])


@postgres_only
def test_the_webhooks_statement_is_prepared(database_tasks, post_webhook):
    for order in OrderFactory.create_batch(PREPARE_THRESHOLD + 1, total_amount=2300, currency="usd"):
        assert post_webhook(payment_intent_event("payment_intent.succeeded", order)).json()["outcome"] == (
            "queued"
        )

    assert WebhookEvent.objects.count() == PREPARE_THRESHOLD + 1
    assert [s for s in prepared_statements() if "pg_advisory_xact_lock_shared" in s]
