"""Every webhook inserts an event row: its table carries only the indexes some query reads."""

import re

import pytest
from django.db import connection

from payments.models import WebhookEvent
from tests.postgres import postgres_only


@postgres_only
@pytest.mark.django_db
def test_the_event_table_has_one_index_per_lookup_and_no_pattern_copies():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [WebhookEvent._meta.db_table])
        definitions = [row[0] for row in cursor.fetchall()]

    assert [d for d in definitions if "pattern_ops" in d] == []  # LIKE 'prefix%': no query does it
    assert sorted(re.search(r"\((.*)\)$", d).group(1) for d in definitions) == sorted(
        [
            "id",  # primary key
            "stripe_event_id",  # unique: insert-or-get
            "outcome, received_at",  # re-queue, prune, the admin's failed list
            "received_at",  # the admin's newest-first list
            "type",  # the admin's filter
            "payment_intent_id",  # an order's events, the timeline check
            "order_id",  # foreign key
        ]
    )
