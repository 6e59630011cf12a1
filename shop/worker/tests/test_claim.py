"""The worker's claim reads the queue's index in order, even on a table PostgreSQL never analyzed.

The test database's tables are new and never analyzed: the case where,
without the claim's settings, PostgreSQL sorts every waiting task per claim.
"""

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shop.worker.claim import claim_on_queue_index, is_claim
from tests.postgres import postgres_only

WAITING = 3000


@pytest.fixture
def waiting_tasks(transactional_db):
    """Committed, as a worker sees them; each claim below is its own transaction, as the worker's is."""
    now = timezone.now()
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            args_kwargs={"args": [number], "kwargs": {}},
            task_path="payments.tasks.webhook_event_apply",
            backend_name="default",
            run_after=now,
        )
        for number in range(WAITING)
    )


def claim_plan() -> str:
    """The plan of django-tasks-db's worker's claim (its queryset, as db_worker builds it)."""
    ready = DBTaskResult.objects.ready().filter(backend_name="default", queue_name__in=["default"])
    with transaction.atomic():
        return ready.select_for_update(skip_locked=True).explain()


@postgres_only
def test_the_claim_uses_the_queue_index_in_order_and_sorts_nothing(waiting_tasks):
    unguided = claim_plan()
    with connection.execute_wrapper(claim_on_queue_index):
        guided = claim_plan()

    assert "Sort" in unguided  # what the settings are for: every waiting task read and sorted
    assert "Index Scan using tasks_db_new_ordering_idx" in guided
    assert "Sort" not in guided


@postgres_only
def test_the_settings_end_with_the_claims_transaction(waiting_tasks):
    with connection.execute_wrapper(claim_on_queue_index):
        claim_plan()
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_sort")
            assert cursor.fetchone() == ("on",)


@postgres_only
def test_the_worker_claims_the_oldest_task_first(waiting_tasks):
    ready = DBTaskResult.objects.ready().filter(backend_name="default")
    with connection.execute_wrapper(claim_on_queue_index), transaction.atomic():
        claimed = ready.get_locked()
    assert claimed.status == TaskResultStatus.READY
    assert claimed.pk == DBTaskResult.objects.order_by(*DBTaskResult._meta.ordering).first().pk


def test_only_the_claim_is_recognised():
    table = f'"{DBTaskResult._meta.db_table}"'
    assert is_claim(f"SELECT * FROM {table} WHERE x ORDER BY y LIMIT 1 FOR UPDATE SKIP LOCKED")
    assert not is_claim(f"SELECT * FROM {table} WHERE x ORDER BY y LIMIT 1 FOR UPDATE")
    assert not is_claim('SELECT * FROM "orders_order" LIMIT 1 FOR UPDATE SKIP LOCKED')
