"""config/postgresql: `prepared_statement_cursor()`, against a real PostgreSQL.

What it executes is prepared: the server plans it once per connection.
Everything else is Django's cursor: the query log, Django's exceptions.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from payments.models import WebhookEvent
from payments.tests.events import payment_intent_event
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@postgres_only
@pytest.mark.django_db
def test_a_statement_sent_often_is_prepared_once_and_answers_as_before():
    answers = []
    for number in range(3):
        with connection.prepared_statement_cursor() as cursor:
            cursor.execute("SELECT %s::integer * 2 AS doubled_for_the_test", [number])
            answers.append(cursor.fetchone()[0])

    assert answers == [0, 2, 4]
    (prepared,) = [s for s in prepared_statements() if "doubled_for_the_test" in s]
    assert "$1" in prepared  # bound by the server


@postgres_only
@pytest.mark.django_db
def test_a_plain_cursor_prepares_nothing():
    for number in range(3):
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::integer * 2 AS plain_for_the_test", [number])

    assert not [s for s in prepared_statements() if "plain_for_the_test" in s]


@postgres_only
@pytest.mark.django_db
def test_it_is_djangos_cursor_logged_and_raising_djangos_errors():
    with CaptureQueriesContext(connection) as queries, connection.prepared_statement_cursor() as cursor:
        cursor.execute("SELECT %s::integer AS logged_for_the_test", [7])
    assert [q["sql"] for q in queries] == ["SELECT 7::integer AS logged_for_the_test"]

    # Django's IntegrityError, not psycopg's NotNullViolation
    with pytest.raises(IntegrityError), transaction.atomic():
        cursor = connection.prepared_statement_cursor()
        cursor.execute("INSERT INTO payments_webhookevent (stripe_event_id) VALUES (%s::text)", [None])


@postgres_only
def test_the_webhooks_statement_is_prepared(database_tasks, post_webhook):
    for order in OrderFactory.create_batch(2, total_amount=2300, currency="usd"):
        assert post_webhook(payment_intent_event("payment_intent.succeeded", order)).json()["outcome"] == (
            "queued"
        )

    assert WebhookEvent.objects.count() == 2
    assert [s for s in prepared_statements() if "pg_advisory_xact_lock_shared" in s]
